import type { Check } from '../policy/compile.js';

/** One limit's answer for one request (milliseconds). */
export interface LimitResult {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryMs: number;
}

/** The answer for a whole request: admitted only if every enforced limit allowed it. */
export interface Verdict {
  admitted: boolean;
  checks: readonly Check[];
  /** parallel to checks; may be shorter when a cached denial answered without asking Redis */
  results: readonly LimitResult[];
  /** the shared store could not be asked; admitted tells whether we failed open */
  unavailable: boolean;
}

/** Decides a request's checks; local limiters answer synchronously. */
export interface Limiter {
  decide(checks: readonly Check[]): Verdict | Promise<Verdict>;
  /** keys currently held, per limit id */
  keys(): Map<string, number>;
  close(): Promise<void>;
}
