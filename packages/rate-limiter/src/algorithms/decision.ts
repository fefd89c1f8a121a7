/** The outcome of one limit for one request; times in milliseconds. */
export interface Decision<S> {
  allowed: boolean;
  /** state to store if the request is admitted (unchanged on denial) */
  next: S;
  /** requests still admissible right now after this one */
  remaining: number;
  /** time until the limit is fully replenished (nothing of it used) */
  resetMs: number;
  /** time until this request would be admitted; 0 when allowed */
  retryMs: number;
}

/** A rate-limit algorithm as pure functions of (stored state, now): no clock, no I/O. */
export interface Algorithm<S> {
  decide(state: S | undefined, now: number, cost: number): Decision<S>;
  /** when a stored state becomes equivalent to no state at all (idle key may be dropped) */
  expiresAt(state: S): number;
}
