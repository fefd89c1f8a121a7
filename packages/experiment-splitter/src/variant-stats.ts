import { LATENCY_BUCKETS } from '@dds/core/metrics';
import { SlidingWindow } from './sliding-window.js';

/** Response classes counted per variant; `aborted` = the client left before the answer. */
export const STATUS_CLASSES = ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export const FAILURE_KINDS = ['upstream_error', 'upstream_timeout'] as const;

/**
 * Everything measured for one variant: lifetime counters for Prometheus (plain numbers and
 * typed arrays, exported at scrape time, so the hot path does no label hashing) and the
 * sliding window the admin view and the guard read. Kept across reloads by experiment/variant.
 */
export class VariantStats {
  requests = 0;
  readonly responses = new Float64Array(STATUS_CLASSES.length);
  readonly failures = new Float64Array(FAILURE_KINDS.length);
  fallbacks = 0;
  guardTrips = 0;
  /** cumulative counts per LATENCY_BUCKETS bound, +Inf last */
  readonly latency = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  readonly window: SlidingWindow;

  constructor(
    readonly experiment: string,
    readonly variant: string,
  ) {
    this.window = new SlidingWindow();
  }

  /** One finished request. status 499 with aborted=true means the client went away. */
  done(status: number, seconds: number, aborted: boolean): void {
    const cls = aborted ? 0 : status >= 100 && status < 600 ? (status / 100) | 0 : 5;
    this.responses[cls]!++;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    this.latency[b]!++;
    this.latencySum += seconds;
    if (!aborted) this.window.record(seconds, status >= 500);
  }

  failure(kind: (typeof FAILURE_KINDS)[number]): void {
    this.failures[kind === 'upstream_error' ? 0 : 1]!++;
  }
}
