import { readFileSync } from 'node:fs';

/** One rate-limit decision as the limiter's access log records it. */
export interface Decision {
  /** when the request started, ms since the epoch (the record's timestamp) */
  at: number;
  admitted: boolean;
}

/** The decisions of a rate limiter's `--access-log file:PATH`, in arrival order. */
export function readDecisions(file: string): Decision[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { timestamp: string; attributes: Record<string, unknown> })
    .map((r) => ({
      at: Date.parse(r.timestamp),
      admitted: r.attributes['dds.ratelimit.decision'] === 'allowed',
    }))
    .sort((a, b) => a.at - b.at);
}

/**
 * How many of these arrivals GCRA admits (a bucket of burst + 1 refilled one per interval): the
 * exact count the limiter must reach for the arrival times it saw, whatever the machine's load
 * did to them. Both bounds of an end-to-end rate test come from it.
 */
export function gcraReplay(arrivals: readonly number[], intervalMs: number, burst: number): number {
  const capacity = (burst + 1) * intervalMs;
  let tat = Number.NEGATIVE_INFINITY;
  let admitted = 0;
  for (const at of arrivals) {
    const next = Math.max(tat, at) + intervalMs;
    if (at < next - capacity) continue;
    tat = next;
    admitted++;
  }
  return admitted;
}
