import { Counter, Gauge, Histogram, LATENCY_BUCKETS, METRIC_PREFIX, type Registry } from '@dds/core/metrics';

const P = `${METRIC_PREFIX}ratelimit_`;

/** What happened to one limit of one request. */
export type Outcome =
  | 'allowed'
  | 'denied'
  | 'shadow_denied'
  | 'not_consumed'
  | 'allowlisted'
  | 'no_key'
  | 'unavailable';

type Child = { inc(n?: number): void };

/** The limiter's metrics; label children are bound once per (policy, limit) to keep inc() cheap. */
export class LimiterMetrics {
  private readonly decisions: Counter<'policy' | 'limit' | 'outcome'>;
  private readonly bound = new WeakMap<object, Map<Outcome, Child>>();
  readonly redisLatency: Histogram;
  readonly redisErrors: Counter;
  readonly redisUp: Gauge;
  readonly failOpen: Counter;
  readonly failClosed: Counter;
  readonly responses: Counter<'code'>;
  readonly clientErrors: Counter<'kind'>;
  readonly upstreamFailures: Counter<'reason'>;
  readonly jwtRejected: Counter<'reason'>;
  private readonly codeChildren: Child[] = [];

  constructor(
    registry: Registry,
    sources: { keys(): Map<string, number>; evictions(): number; denyCacheHits(): number },
  ) {
    const registers = [registry];
    this.decisions = new Counter({
      name: `${P}decisions_total`,
      help: 'Limit evaluations by policy, limit and outcome (allowed, denied, shadow_denied, not_consumed: allowed but the request was denied by another limit, allowlisted, no_key, unavailable).',
      labelNames: ['policy', 'limit', 'outcome'],
      registers,
    });
    new Gauge({
      name: `${P}keys`,
      help: 'Keys currently tracked, per limit (local mode) or in the deny cache (Redis mode).',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        for (const [id, n] of sources.keys()) this.set({ limit: id }, n);
      },
    });
    let evicted = 0;
    new Counter({
      name: `${P}evictions_total`,
      help: 'Keys dropped before expiry because a limit held --max-keys keys (their limit restarts).',
      registers,
      collect() {
        const now = sources.evictions();
        if (now > evicted) this.inc(now - evicted);
        evicted = now;
      },
    });
    let hits = 0;
    new Counter({
      name: `${P}deny_cache_hits_total`,
      help: 'Requests denied from the local cache of keys over their limit, without asking Redis.',
      registers,
      collect() {
        const now = sources.denyCacheHits();
        if (now > hits) this.inc(now - hits);
        hits = now;
      },
    });
    this.jwtRejected = new Counter({
      name: `${P}jwt_rejected_total`,
      help: 'Requests whose JWT failed verification (its jwt: key part counts as missing), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.redisLatency = new Histogram({
      name: `${P}redis_duration_seconds`,
      help: 'Time of one Redis call (one EVALSHA deciding every request of an event-loop turn).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.redisErrors = new Counter({
      name: `${P}redis_errors_total`,
      help: 'Redis decisions that failed (connection down, timeout, script error).',
      registers,
    });
    this.redisUp = new Gauge({
      name: `${P}redis_up`,
      help: '1 while the last Redis decision or connection attempt succeeded.',
      registers,
    });
    this.failOpen = new Counter({
      name: `${P}fail_open_total`,
      help: 'Requests admitted without a decision because Redis was unavailable (--fail-mode open).',
      registers,
    });
    this.failClosed = new Counter({
      name: `${P}fail_closed_total`,
      help: 'Requests refused with 503 because Redis was unavailable (--fail-mode closed).',
      registers,
    });
    this.responses = new Counter({
      name: `${METRIC_PREFIX}http_responses_total`,
      help: 'Responses sent to clients by status code class (429 and 503 from the limiter included).',
      labelNames: ['code'],
      registers,
    });
    for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx']) this.codeChildren.push(this.responses.labels(c));
    this.clientErrors = new Counter({
      name: `${METRIC_PREFIX}http_client_errors_total`,
      help: 'Malformed or abusive requests answered before proxying (400, 408, 431) or reset.',
      labelNames: ['kind'],
      registers,
    });
    this.upstreamFailures = new Counter({
      name: `${METRIC_PREFIX}upstream_failures_total`,
      help: 'Proxied requests that ended without an upstream response.',
      labelNames: ['reason'],
      registers,
    });
  }

  /** counts one outcome; `owner` (a compiled limit or policy) keys the cache of bound children */
  decision(owner: object, policy: string, limit: string, outcome: Outcome): void {
    let m = this.bound.get(owner);
    if (m === undefined) {
      m = new Map();
      this.bound.set(owner, m);
    }
    let c = m.get(outcome);
    if (c === undefined) {
      c = this.decisions.labels(policy, limit, outcome);
      m.set(outcome, c);
    }
    c.inc();
  }

  response(status: number): void {
    this.codeChildren[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]!.inc();
  }
}
