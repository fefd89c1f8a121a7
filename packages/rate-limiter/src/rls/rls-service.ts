import type { Limiter, LimitResult } from '../limiter/verdict.js';
import type { WindowCounter, WindowHit } from '../limiter/window-counter.js';
import {
  Code,
  type DescriptorStatus,
  type RlsDescriptor,
  type RlsRequest,
  type RlsResponse,
} from './rls-codec.js';
import { type RlsConfig, type RlsRule, UNIT_SECONDS } from './rls-config.js';
import { limiterLimit, type RlsAlgorithm } from './rls-limits.js';
import { findRule, type Match } from './rls-lookup.js';
import type { RlsMetrics, RlsOutcome } from './rls-metrics.js';

export interface RlsSettings {
  config: RlsConfig;
  algorithm: RlsAlgorithm;
  /** prefix of fixed-window keys (envoyproxy/ratelimit's CACHE_KEY_PREFIX: '' by default) */
  prefix: string;
  /** answer OK whatever the limits say (envoyproxy/ratelimit's SHADOW_MODE) */
  shadowMode: boolean;
  /** add RateLimit-Policy and RateLimit (IETF draft) to the response headers */
  headers: boolean;
  failMode: 'open' | 'closed';
}

export interface RlsDeps {
  limiter: Limiter;
  windows: WindowCounter;
  metrics: RlsMetrics;
  /** wall clock, milliseconds */
  clock: () => number;
}

/** A bad request: answered as a gRPC INVALID_ARGUMENT. */
export class RlsRequestError extends Error {
  override name = 'RlsRequestError';
}

interface Planned {
  match: Match | undefined;
  /** the rule was dropped because another descriptor's rule replaces it */
  replaced: boolean;
  hits: number;
}

const MAX_UINT32 = 0xffff_ffff;

/**
 * ShouldRateLimit: each descriptor is matched and decided on its own, as envoyproxy/ratelimit
 * does (a descriptor over its limit does not stop the others from counting); the call is
 * OVER_LIMIT when any enforced descriptor is. The settings are swapped whole on reload.
 */
export class RlsService {
  constructor(
    public settings: RlsSettings,
    private readonly deps: RlsDeps,
  ) {}

  async shouldRateLimit(req: RlsRequest): Promise<RlsResponse> {
    const s = this.settings;
    if (req.domain === '') throw new RlsRequestError('rate limit domain must not be empty');
    if (req.descriptors.length === 0)
      throw new RlsRequestError('rate limit descriptor list must not be empty');
    const known = s.config.domains.has(req.domain);
    const domainLabel = known ? req.domain : 'unknown';
    const plan = this.plan(req, s.config);
    const now = this.deps.clock();
    const statuses: DescriptorStatus[] = new Array(plan.length);
    const outcomes: RlsOutcome[] = new Array(plan.length);
    let unavailable = false;

    if (s.algorithm === 'fixed-window') {
      const hits: WindowHit[] = [];
      const at: number[] = [];
      plan.forEach((p, i) => {
        const r = p.match?.rule;
        if (r === undefined || r.unlimited || p.replaced) return;
        at.push(i);
        hits.push({
          key: windowKey(s.prefix, req.domain, req.descriptors[i]!, r, now),
          hits: p.hits,
          ttlSec: UNIT_SECONDS[r.unit],
        });
      });
      const counts = hits.length ? await this.deps.windows.increment(hits) : [];
      at.forEach((i, j) => {
        const rule = plan[i]!.match!.rule;
        const after = counts?.[j];
        if (after === undefined) {
          unavailable = true;
          [statuses[i], outcomes[i]] = this.unavailable(rule);
          return;
        }
        const reset = windowResetMs(rule, now);
        const over = after > rule.requestsPerUnit;
        statuses[i] = {
          code: over && !rule.shadowMode ? Code.OVER_LIMIT : Code.OK,
          currentLimit: limitOf(rule),
          limitRemaining: over ? 0 : rule.requestsPerUnit - after,
          durationUntilResetMs: reset,
        };
        outcomes[i] = over ? (rule.shadowMode ? 'shadow_denied' : 'denied') : 'allowed';
      });
    } else {
      const algorithm = s.algorithm;
      await Promise.all(
        plan.map(async (p, i) => {
          const m = p.match;
          if (m === undefined || m.rule.unlimited || p.replaced) return;
          const d = req.descriptors[i]!;
          const check = {
            policy: { name: req.domain },
            limit: limiterLimit(m.rule, algorithm, d.limit !== undefined),
            key: descriptorValues(d),
            enforced: !m.rule.shadowMode,
          };
          const v = await this.deps.limiter.decide([check], p.hits);
          const r: LimitResult | undefined = v.results[0];
          if (v.unavailable || r === undefined) {
            unavailable = true;
            [statuses[i], outcomes[i]] = this.unavailable(m.rule);
            return;
          }
          statuses[i] = {
            code: r.allowed || m.rule.shadowMode ? Code.OK : Code.OVER_LIMIT,
            currentLimit: limitOf(m.rule),
            limitRemaining: r.allowed ? Math.min(MAX_UINT32, Math.max(0, r.remaining)) : 0,
            durationUntilResetMs: r.allowed
              ? r.resetMs
              : Number.isFinite(r.retryMs)
                ? r.retryMs
                : unitMsOf(m.rule),
          };
          outcomes[i] = r.allowed ? 'allowed' : m.rule.shadowMode ? 'shadow_denied' : 'denied';
        }),
      );
    }

    let overall: Code = Code.OK;
    plan.forEach((p, i) => {
      if (statuses[i] === undefined) {
        const unlimited = p.match?.rule.unlimited === true && !p.replaced;
        statuses[i] = unlimited
          ? { code: Code.OK, limitRemaining: MAX_UINT32 }
          : { code: Code.OK, limitRemaining: 0 };
        outcomes[i] = unlimited ? 'unlimited' : 'no_limit';
      }
      if (statuses[i]!.code === Code.OVER_LIMIT) overall = Code.OVER_LIMIT;
      this.deps.metrics.decision(domainLabel, p.match?.metricKey ?? `${domainLabel}.*`, outcomes[i]!, p.hits);
    });
    if (s.shadowMode) overall = Code.OK;
    if (unavailable && s.failMode === 'closed') overall = Code.OVER_LIMIT;
    const res: RlsResponse = {
      overallCode: overall,
      statuses,
      responseHeadersToAdd: s.headers ? rateLimitHeaders(plan, statuses, overall === Code.OVER_LIMIT) : [],
    };
    this.deps.metrics.requests.labels(domainLabel, overall === Code.OVER_LIMIT ? 'over_limit' : 'ok').inc();
    return res;
  }

  /** Rules per descriptor, `replaces` applied, hits per descriptor. */
  private plan(req: RlsRequest, config: RlsConfig): Planned[] {
    const replacing = new Set<string>();
    const plan = req.descriptors.map((d): Planned => {
      const match = findRule(config, req.domain, d);
      for (const r of match?.rule.replaces ?? []) replacing.add(r);
      // a descriptor's own hits_addend (even 0: check without counting) wins over the request's
      const hits = d.hitsAddend ?? Math.max(1, req.hitsAddend);
      return { match, replaced: false, hits };
    });
    if (replacing.size)
      for (const p of plan) if (p.match?.rule.name && replacing.has(p.match.rule.name)) p.replaced = true;
    for (const p of plan) if (p.replaced) p.match = undefined;
    return plan;
  }

  private unavailable(rule: RlsRule): [DescriptorStatus, RlsOutcome] {
    const closed = this.settings.failMode === 'closed' && !rule.shadowMode;
    return [
      { code: closed ? Code.OVER_LIMIT : Code.OK, currentLimit: limitOf(rule), limitRemaining: 0 },
      'unavailable',
    ];
  }
}

const limitOf = (r: RlsRule) => ({ name: r.name, requestsPerUnit: r.requestsPerUnit, unit: r.unitCode });
const unitMsOf = (r: RlsRule) => UNIT_SECONDS[r.unit] * 1000;

/** envoyproxy/ratelimit's cache key: prefix, domain, each key_value_, then the window's start (unix seconds). */
export function windowKey(
  prefix: string,
  domain: string,
  d: RlsDescriptor,
  rule: RlsRule,
  nowMs: number,
): string {
  let k = `${prefix}${domain}_`;
  for (const e of d.entries) k += `${e.key}_${e.value}_`;
  const div = UNIT_SECONDS[rule.unit];
  const sec = Math.floor(nowMs / 1000);
  return k + String(Math.floor(sec / div) * div);
}

/** Time until the fixed window ends, in whole seconds as envoyproxy/ratelimit reports it. */
function windowResetMs(rule: RlsRule, nowMs: number): number {
  const div = UNIT_SECONDS[rule.unit];
  return (div - (Math.floor(nowMs / 1000) % div)) * 1000;
}

/** The descriptor's entries as one unambiguous key (values may contain any character). */
function descriptorValues(d: RlsDescriptor): string {
  return JSON.stringify(d.entries.flatMap((e) => [e.key, e.value]));
}

/** A structured-field string: printable ASCII, `"` and `\` escaped. */
const sfString = (s: string) => `"${s.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`;

/**
 * RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers, structured fields) for
 * Envoy to add to the response: one item per limited descriptor, only the refusing ones on a
 * refusal (the others were counted but did not decide).
 */
function rateLimitHeaders(plan: Planned[], statuses: DescriptorStatus[], over: boolean): [string, string][] {
  let policy = '';
  let state = '';
  plan.forEach((p, i) => {
    const s = statuses[i]!;
    const rule = p.match?.rule;
    if (!rule || rule.unlimited || s.currentLimit === undefined) return;
    if (over && s.code !== Code.OVER_LIMIT) return;
    const name = sfString(rule.name || p.match!.metricKey);
    const sep = policy === '' ? '' : ', ';
    policy += `${sep}${name};q=${rule.requestsPerUnit};w=${UNIT_SECONDS[rule.unit]}`;
    const t = Math.ceil((s.durationUntilResetMs ?? 0) / 1000 - 1e-9);
    state += `${sep}${name};r=${s.limitRemaining};t=${Math.max(0, t)}`;
  });
  return policy
    ? [
        ['ratelimit-policy', policy],
        ['ratelimit', state],
      ]
    : [];
}
