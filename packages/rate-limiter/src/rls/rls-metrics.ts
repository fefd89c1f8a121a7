import { Counter, Histogram, LATENCY_BUCKETS, METRIC_PREFIX, type Registry } from '@dds/core/metrics';

const P = `${METRIC_PREFIX}ratelimit_rls_`;

/** What happened to one descriptor of one ShouldRateLimit call. */
export type RlsOutcome = 'allowed' | 'denied' | 'shadow_denied' | 'unlimited' | 'no_limit' | 'unavailable';

/** Distinct descriptor labels kept before new ones are counted as "other" (detailed_metric). */
const MAX_LABELS = 10_000;

/**
 * The RLS metrics, the same whatever the algorithm and store (local or Redis): per domain and
 * descriptor (the config key, or the values with detailed_metric), decisions and hits.
 */
export class RlsMetrics {
  readonly requests: Counter<'domain' | 'code'>;
  readonly decisions: Counter<'domain' | 'descriptor' | 'outcome'>;
  readonly hits: Counter<'domain' | 'descriptor' | 'outcome'>;
  readonly duration: Histogram;
  private readonly labels = new Set<string>();
  /** bound label children per (domain, descriptor, outcome): no label hashing per call */
  private readonly children = new Map<
    string,
    { decisions: { inc(): void }; hits: { inc(n: number): void } }
  >();

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: `${P}requests_total`,
      help: 'ShouldRateLimit calls by domain (configured ones; others are "unknown") and overall code (ok, over_limit, error).',
      labelNames: ['domain', 'code'],
      registers,
    });
    this.decisions = new Counter({
      name: `${P}decisions_total`,
      help: 'Descriptors decided, by domain, descriptor and outcome (allowed, denied, shadow_denied, unlimited, no_limit, unavailable).',
      labelNames: ['domain', 'descriptor', 'outcome'],
      registers,
    });
    this.hits = new Counter({
      name: `${P}hits_total`,
      help: 'Hits (hits_addend, 1 by default) by domain, descriptor and outcome.',
      labelNames: ['domain', 'descriptor', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: `${P}request_duration_seconds`,
      help: 'Time to answer one ShouldRateLimit call (the store round trip included).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  decision(domain: string, descriptor: string, outcome: RlsOutcome, hits: number): void {
    let d = descriptor;
    if (!this.labels.has(d)) {
      if (this.labels.size >= MAX_LABELS) d = 'other';
      else this.labels.add(d);
    }
    const key = `${domain}\u0000${d}\u0000${outcome}`;
    let c = this.children.get(key);
    if (c === undefined) {
      c = {
        decisions: this.decisions.labels(domain, d, outcome),
        hits: this.hits.labels(domain, d, outcome),
      };
      this.children.set(key, c);
    }
    c.decisions.inc();
    if (hits > 0) c.hits.inc(hits);
  }
}
