import type { IncomingMessage } from 'node:http';
import { TrustedProxies } from '@dds/core/http/trusted-proxies';
import type { Algorithm } from '../algorithms/decision.js';
import { gcra } from '../algorithms/gcra.js';
import { slidingWindow } from '../algorithms/sliding-window.js';
import { quotaItem } from '../http/ratelimit-headers.js';
import { type KeyExtractor, keyExtractor } from './key-extractor.js';
import { type KeyPart, parseKeyPart } from './key-spec.js';
import { type RequestMatcher, requestMatcher } from './matcher.js';
import { parseRate, type Rate } from './rate.js';
import { isCidr, type LimitConfig, type PolicyConfig } from './schema.js';

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
  readonly overrides: ReadonlyMap<string, readonly LimitSpec[]>;
  readonly allowKeys: ReadonlySet<string>;
  readonly allowIps: TrustedProxies | undefined;
  readonly missingKey: 'skip' | 'shared';
}

export function compilePolicy(p: PolicyConfig): CompiledPolicy {
  const parts = p.key.map((k) => parseKeyPart(k) as KeyPart);
  const overrides = new Map<string, LimitSpec[]>();
  p.overrides.forEach((o, j) => {
    const limits = o.limits.map((l, i) => compileLimit(p.name, `o${j}`, l, i, o.limits.length));
    for (const k of o.keys) overrides.set(k, limits);
  });
  const cidrs = p.allow.filter(isCidr);
  return {
    name: p.name,
    dryRun: p.dryRun,
    matches: requestMatcher(p.match),
    key: keyExtractor(parts),
    limits: p.limits.map((l, i) => compileLimit(p.name, '', l, i, p.limits.length)),
    overrides,
    allowKeys: new Set(p.allow.filter((a) => !isCidr(a))),
    allowIps: cidrs.length ? new TrustedProxies(cidrs) : undefined,
    missingKey: p.missingKey,
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
 * The limits a request must pass: every matching policy's limits (or its override for the
 * key), unless the key or client IP is allow-listed. All of them must pass.
 */
export function collectChecks(
  policies: readonly CompiledPolicy[],
  req: IncomingMessage,
  clientIp: string,
  dryRun: boolean,
  onSkip: (policy: CompiledPolicy, why: PolicySkip) => void,
): Check[] {
  const checks: Check[] = [];
  for (const p of policies) {
    if (!p.matches(req)) continue;
    if (p.allowIps?.has(clientIp)) {
      onSkip(p, 'allowlisted');
      continue;
    }
    let key = p.key(req, clientIp);
    if (key === undefined) {
      if (p.missingKey === 'skip') {
        onSkip(p, 'no_key');
        continue;
      }
      key = '\u0000missing';
    } else if (p.allowKeys.has(key)) {
      onSkip(p, 'allowlisted');
      continue;
    }
    const limits = p.overrides.get(key) ?? p.limits;
    const enforced = !(dryRun || p.dryRun);
    for (const limit of limits) checks.push({ policy: p, limit, key, enforced });
  }
  return checks;
}
