import type { Algorithm } from '../algorithms/decision.js';
import type { Check } from '../policy/compile.js';

/** What a limiter needs of a limit (policy limits and RLS descriptor limits both provide it). */
export interface LimiterLimit {
  /** storage id, stable across reloads while the limit is unchanged */
  readonly id: string;
  /** equal signatures hold state compatibly (kept on reload) */
  readonly signature: string;
  readonly algorithm: Algorithm<unknown>;
  /** the Lua script's per-limit arguments: kind, a, b (see redis/decide-script.ts) */
  readonly redisArgs: readonly [string, string, string];
}

/** One limit a request must pass, with the key it is counted under. */
export interface LimitCheck {
  /** the owner of the key space: in Redis Cluster, one owner's key lives in one hash slot */
  readonly policy: { readonly name: string };
  readonly limit: LimiterLimit;
  readonly key: string;
  /** false in dry-run / shadow mode: evaluated and counted, never denies */
  readonly enforced: boolean;
}

/** One limit's answer for one request (milliseconds). */
export interface LimitResult {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryMs: number;
}

/** The answer for a whole request: admitted only if every enforced limit allowed it. */
export interface Verdict<C extends LimitCheck = Check> {
  admitted: boolean;
  checks: readonly C[];
  /** parallel to checks; may be shorter when a cached denial answered without asking Redis */
  results: readonly LimitResult[];
  /** the shared store could not be asked; admitted tells whether we failed open */
  unavailable: boolean;
}

/** Decides a request's checks; local limiters answer synchronously. */
export interface Limiter {
  /** `cost`: how much of each limit the request uses (1 per request; RLS hits_addend) */
  decide<C extends LimitCheck>(checks: readonly C[], cost?: number): Verdict<C> | Promise<Verdict<C>>;
  /** keys currently held, per limit id */
  keys(): Map<string, number>;
  close(): Promise<void>;
}
