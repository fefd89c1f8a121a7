/**
 * Request count, error count and a latency histogram over a sliding window, kept as a ring of
 * time slots of fixed-size counters: recording is a few array increments, no per-request
 * objects, and the window slides by clearing the oldest slot.
 *
 * Latency buckets grow by 20% from 50 µs to about 2.5 min, so a percentile is reported as the
 * upper bound of its bucket: at most 20% above the true value.
 */
export const FIRST_BOUND = 50e-6;
const GROWTH = 1.2;
const LOG_GROWTH = Math.log(GROWTH);
export const LATENCY_SLOTS = 82;
const WIDTH = 2 + LATENCY_SLOTS;

export const latencyBound = (i: number): number => FIRST_BOUND * GROWTH ** i;

export interface WindowSummary {
  requests: number;
  errors: number;
  errorRate: number;
  /** seconds; NaN without requests */
  p50: number;
  p95: number;
  p99: number;
}

export class SlidingWindow {
  private readonly data: Uint32Array;
  private cur = 0;

  constructor(readonly slots = 10) {
    this.data = new Uint32Array(slots * WIDTH);
  }

  record(seconds: number, error: boolean): void {
    const base = this.cur * WIDTH;
    const d = this.data;
    d[base]!++;
    if (error) d[base + 1]!++;
    let i = seconds <= FIRST_BOUND ? 0 : Math.ceil(Math.log(seconds / FIRST_BOUND) / LOG_GROWTH);
    if (i >= LATENCY_SLOTS) i = LATENCY_SLOTS - 1;
    d[base + 2 + i]!++;
  }

  /** A request that failed before any latency could be measured (the backend was down). */
  recordFailure(): void {
    const base = this.cur * WIDTH;
    this.data[base]!++;
    this.data[base + 1]!++;
  }

  /** Starts a new slot, dropping the oldest. */
  advance(): void {
    this.cur = (this.cur + 1) % this.slots;
    this.data.fill(0, this.cur * WIDTH, (this.cur + 1) * WIDTH);
  }

  clear(): void {
    this.data.fill(0);
  }

  summary(): WindowSummary {
    const hist = new Float64Array(LATENCY_SLOTS);
    let requests = 0;
    let errors = 0;
    for (let s = 0; s < this.slots; s++) {
      const base = s * WIDTH;
      requests += this.data[base]!;
      errors += this.data[base + 1]!;
      for (let i = 0; i < LATENCY_SLOTS; i++) hist[i]! += this.data[base + 2 + i]!;
    }
    let timed = 0;
    for (let i = 0; i < LATENCY_SLOTS; i++) timed += hist[i]!;
    const q = (p: number): number => {
      if (!timed) return Number.NaN;
      const rank = Math.ceil(p * timed);
      let seen = 0;
      for (let i = 0; i < LATENCY_SLOTS; i++) {
        seen += hist[i]!;
        if (seen >= rank) return latencyBound(i);
      }
      return latencyBound(LATENCY_SLOTS - 1);
    };
    return {
      requests,
      errors,
      errorRate: requests ? errors / requests : 0,
      p50: q(0.5),
      p95: q(0.95),
      p99: q(0.99),
    };
  }
}
