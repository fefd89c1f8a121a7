/**
 * Keys known to be over their limit until a given time, answered without asking Redis. Exact
 * for GCRA and the sliding window alike: a denial's retry time can only move later as other
 * replicas admit more, so nothing denied here would have been admitted by Redis.
 */
export class DenyCache {
  private readonly map = new Map<string, number>();
  hits = 0;

  constructor(
    private readonly maxMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** ms until the key may be admitted, or 0 if not cached */
  get(key: string, now: number): number {
    if (this.maxMs <= 0) return 0;
    const until = this.map.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.map.delete(key);
      return 0;
    }
    this.hits++;
    return until - now;
  }

  add(key: string, now: number, retryMs: number): void {
    if (this.maxMs <= 0 || !(retryMs > 0)) return;
    if (this.map.size >= this.maxKeys && !this.map.has(key)) {
      this.map.delete(this.map.keys().next().value as string);
    }
    this.map.set(key, now + Math.min(retryMs, this.maxMs));
  }

  get size(): number {
    return this.map.size;
  }
}
