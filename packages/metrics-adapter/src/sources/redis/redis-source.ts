import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import type { MetricSet } from '../../exposition/metric-set.js';
import type { CollectNotes, ScrapeOptions, Source } from '../source.js';
import { parseInfo } from './info-parser.js';
import { fetchRedisSnapshot } from './redis-client.js';
import { redisMetrics } from './redis-metrics.js';
import { parseRedisTarget } from './redis-target.js';

export interface RedisSourceConfig {
  target: string;
  password: string;
  passwordFile: string;
  tlsCaFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsSkipVerify: boolean;
}

/** TLS options for rediss:// targets; files are read per scrape so rotated certificates apply at once. */
async function tlsOptions(cfg: RedisSourceConfig): Promise<ConnectionOptions> {
  const read = (f: string) => readFile(f);
  return {
    rejectUnauthorized: !cfg.tlsSkipVerify,
    ...(cfg.tlsCaFile ? { ca: await read(cfg.tlsCaFile) } : {}),
    ...(cfg.tlsCertFile ? { cert: await read(cfg.tlsCertFile) } : {}),
    ...(cfg.tlsKeyFile ? { key: await read(cfg.tlsKeyFile) } : {}),
  };
}

export function redisSource(cfg: RedisSourceConfig): Source {
  return {
    kind: 'redis',
    namespace: 'redis',
    multiTargetPath: '/scrape',
    defaultTarget: cfg.target,
    checkTarget: (t) => {
      const r = parseRedisTarget(t);
      return typeof r === 'string' ? r : undefined;
    },
    describe: (t) => t.replace(/\/\/[^@/]*@/, '//***@'),
    async collect(set: MetricSet, target: string, opts: ScrapeOptions): Promise<CollectNotes> {
      const t = parseRedisTarget(target);
      if (typeof t === 'string') throw new Error(t);
      // read on every scrape so a rotated Kubernetes secret is picked up without a restart
      const password = cfg.passwordFile ? (await readFile(cfg.passwordFile, 'utf8')).trim() : cfg.password;
      const snap = await fetchRedisSnapshot(
        t,
        password || undefined,
        t.tls ? { ...opts, tls: await tlsOptions(cfg) } : opts,
      );
      const info = parseInfo(snap.info);
      const { badValues } = redisMetrics(set, info.fields, snap, opts.naming);
      return {
        skipped: info.malformedCount + badValues.length,
        examples: [...info.malformed, ...badValues].slice(0, 5),
      };
    },
  };
}
