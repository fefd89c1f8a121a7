import type { Algorithm } from '../algorithms/decision.js';
import { gcra } from '../algorithms/gcra.js';
import { slidingWindow } from '../algorithms/sliding-window.js';
import { quotaItem } from '../http/ratelimit-headers.js';
import { type Condition, KeyEntries, parseEntry } from './key-entries.js';
import { joinKey, type KeyContext, type KeyExtractor, keyExtractor } from './key-extractor.js';
import { type KeyPart, parseKeyPart } from './key-spec.js';
import { type PolicyRequest, type RequestMatcher, requestMatcher } from './matcher.js';
import { parseRate, type Rate } from './rate.js';
import type { LimitConfig, PolicyConfig } from './schema.js';

/** One limit ready to decide: its algorithm, storage id and pre-rendered quota header item. */
export interface LimitSpec {
  /** storage id (local store and Redis key), stable across reloads while the limit is unchanged */
  readonly id: string;
  /** name in the RateLimit headers */
  readonly name: string;
  readonly kind: 'gcra' | 'sliding-window';
  readonly rate: Rate;
  readonly burst: number;
  readonly algorithm: Algorithm<unknown>;
  /** `"name";q=100;w=1` */
  readonly quota: string;
  /** the Lua script's per-limit arguments: kind, a, b (see redis/decide-script.ts) */
  readonly redisArgs: readonly [string, string, string];
  /** equal signatures hold state compatibly (reused on reload) */
  readonly signature: string;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly dryRun: boolean;
  readonly matches: RequestMatcher;
  readonly key: KeyExtractor;
  readonly limits: readonly LimitSpec[];
  /** which requests each override applies to (its group index in overrideLimits) */
  readonly overrides: KeyEntries;
  readonly overrideLimits: readonly (readonly LimitSpec[])[];
  readonly allow: KeyEntries;
  readonly missingKey: 'skip' | 'shared';
  /** headers the policy's jwt: parts read tokens from (verified before the key is read) */
  readonly jwtHeaders: readonly string[];
}

export function compilePolicy(p: PolicyConfig): CompiledPolicy {
  const parts = p.key.map((k) => parseKeyPart(k) as KeyPart);
  const entries = (list: readonly PolicyConfig['allow'][number][]) =>
    list.map((e) => parseEntry(e, parts) as Condition[]);
  return {
    name: p.name,
    dryRun: p.dryRun,
    matches: requestMatcher(p.match),
    key: keyExtractor(parts),
    limits: p.limits.map((l, i) => compileLimit(p.name, '', l, i, p.limits.length)),
    overrides: new KeyEntries(
      p.overrides.map((o) => entries(o.keys)),
      parts.length,
    ),
    overrideLimits: p.overrides.map((o, j) =>
      o.limits.map((l, i) => compileLimit(p.name, `o${j}`, l, i, o.limits.length)),
    ),
    allow: new KeyEntries([entries(p.allow)], parts.length),
    missingKey: p.missingKey,
    jwtHeaders: [...new Set(parts.flatMap((k) => (k.kind === 'jwt' ? [k.header] : [])))],
  };
}

function compileLimit(policy: string, group: string, l: LimitConfig, i: number, n: number): LimitSpec {
  const rate = parseRate(l.rate)!;
  const name = l.name ?? (n === 1 || i === 0 ? policy : `${policy}-${i + 1}`);
  const id = `${policy}/${group ? `${group}/` : ''}${i}`;
  const interval = rate.periodMs / rate.count;
  const gcraKind = l.algorithm === 'gcra';
  return {
    id,
    name,
    kind: l.algorithm,
    rate,
    burst: l.burst,
    algorithm: (gcraKind
      ? gcra(interval, l.burst)
      : slidingWindow(rate.count, rate.periodMs)) as Algorithm<unknown>,
    quota: quotaItem(name, rate),
    redisArgs: gcraKind
      ? ['1', String(interval), String((l.burst + 1) * interval)]
      : ['2', String(rate.count), String(rate.periodMs)],
    signature: `${l.algorithm}:${rate.count}/${rate.periodMs}:${l.burst}`,
  };
}

/** One limit a request must pass, with the key it is counted under. */
export interface Check {
  readonly policy: CompiledPolicy;
  readonly limit: LimitSpec;
  readonly key: string;
  /** false in dry-run: evaluated and counted, never denies */
  readonly enforced: boolean;
}

/** What happened to a policy before any limit was evaluated. */
export type PolicySkip = 'allowlisted' | 'no_key';

/**
 * The limits a request must pass: every matching policy's limits (or the first override that
 * names the request), unless an allow-list entry names the client or the key. All must pass.
 */
export function collectChecks(
  policies: readonly CompiledPolicy[],
  req: PolicyRequest,
  ctx: KeyContext,
  dryRun: boolean,
  onSkip: (policy: CompiledPolicy, why: PolicySkip) => void,
): Check[] {
  const checks: Check[] = [];
  const ip = ctx.ip;
  for (const p of policies) {
    if (!p.matches(req)) continue;
    if (p.allow.byClient(ip) >= 0) {
      onSkip(p, 'allowlisted');
      continue;
    }
    const values = p.key(req, ctx);
    let key: string;
    let override = p.overrides.empty ? -1 : p.overrides.byClient(ip);
    if (values === undefined) {
      if (p.missingKey === 'skip') {
        onSkip(p, 'no_key');
        continue;
      }
      key = MISSING_KEY;
    } else {
      if (!p.allow.empty && p.allow.byKey(values, ip) >= 0) {
        onSkip(p, 'allowlisted');
        continue;
      }
      key = joinKey(values);
      if (!p.overrides.empty) {
        const byKey = p.overrides.byKey(values, ip);
        if (byKey >= 0 && (override < 0 || byKey < override)) override = byKey;
      }
    }
    const limits = override >= 0 ? p.overrideLimits[override]! : p.limits;
    const enforced = !(dryRun || p.dryRun);
    for (const limit of limits) checks.push({ policy: p, limit, key, enforced });
  }
  return checks;
}

/** The one bucket of requests without a key under `missingKey: shared` (no key value starts with NUL). */
export const MISSING_KEY = '\u0000missing';

/** The jwt: headers the matching policies of a request read, so their tokens are verified first. */
export function jwtHeadersFor(policies: readonly CompiledPolicy[], req: PolicyRequest): string[] | undefined {
  let out: string[] | undefined;
  for (const p of policies) {
    if (p.jwtHeaders.length === 0 || !p.matches(req)) continue;
    if (out === undefined) out = [...p.jwtHeaders];
    else for (const h of p.jwtHeaders) if (!out.includes(h)) out.push(h);
  }
  return out;
}
