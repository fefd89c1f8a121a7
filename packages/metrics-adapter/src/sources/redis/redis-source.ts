import { redactUrl } from '@dds/core/config/redact';
import { RedisConnections } from '@dds/core/redis/redis-session';
import type { RedisSettings } from '@dds/core/redis/redis-settings';
import {
  describeRedisTarget,
  parseRedisUrl,
  type RedisTarget,
  redisTarget,
} from '@dds/core/redis/redis-target';
import type { MetricSet } from '../../exposition/metric-set.js';
import { ScrapeError } from '../scrape-error.js';
import type { CollectNotes, ScrapeOptions, Source } from '../source.js';
import { parseInfo } from './info-parser.js';
import { fetchRedisSnapshot } from './redis-client.js';
import { redisMetrics } from './redis-metrics.js';

/**
 * The Redis source: the configured target on /metrics (a server, a Sentinel-managed primary, or
 * the first answering seed of a Cluster), any server on /scrape?target=. The adapter's
 * credentials and TLS files apply to /scrape targets that bring none. One connection per target
 * is kept between scrapes (up to 16 targets, closed after 5 minutes unused); the password file
 * and the TLS files are checked on every scrape, and a change opens a new connection, so a rotated
 * Secret applies at once.
 */
export function redisSource(settings: RedisSettings): Source & { readiness(): true | string } {
  const connections = new RedisConnections({ maxIdle: 16, idleMs: 5 * 60_000 });
  const configured = redisTarget({ ...settings, redis: settings.redis && withScheme(settings.redis) })!;
  const defaultTarget =
    configured.topology === 'standalone' ? settings.redis : describeRedisTarget(configured);
  /** the last scrape of the configured target failed on a setting (password, CA, ACL) */
  let misconfigured: string | undefined;
  const targetOf = (t: string): RedisTarget | string => {
    if (t === defaultTarget) return configured;
    const u = parseRedisUrl(t);
    if (typeof u === 'string') return u;
    // the target's own user and password win; otherwise the adapter's
    return {
      ...configured,
      ...u,
      ...(u.username ? {} : configured.username ? { username: configured.username } : {}),
      ...(u.password ? { passwordFile: undefined } : {}),
      password: u.password ?? configured.password,
    } as RedisTarget;
  };
  return {
    kind: 'redis',
    namespace: 'redis',
    multiTargetPath: '/scrape',
    defaultTarget,
    checkTarget: (t) => {
      const r = targetOf(t);
      return typeof r === 'string' ? r : undefined;
    },
    describe: (t) => redactUrl(t),
    async collect(set: MetricSet, target: string, opts: ScrapeOptions): Promise<CollectNotes> {
      const t = targetOf(target);
      if (typeof t === 'string') throw new Error(t);
      try {
        const snap = await fetchRedisSnapshot(connections, t, {
          timeoutMs: opts.timeoutMs,
          maxBytes: opts.maxBytes,
        });
        if (target === defaultTarget) misconfigured = undefined;
        const info = parseInfo(snap.info);
        const { badValues } = redisMetrics(set, info.fields, snap, opts.naming);
        return {
          skipped: info.malformedCount + badValues.length,
          examples: [...info.malformed, ...badValues].slice(0, 5),
        };
      } catch (err) {
        if (target === defaultTarget && err instanceof ScrapeError)
          misconfigured = err.reason === 'auth' || err.reason === 'tls' ? err.message : undefined;
        throw err;
      }
    },
    readiness: () => (misconfigured === undefined ? true : `redis: ${misconfigured}`),
    close: () => connections.close(),
  };
}

/** redis_exporter accepts a bare host:port. */
const withScheme = (s: string) => (/^[a-z]+:\/\//i.test(s) ? s : `redis://${s}`);
