import { readFile } from 'node:fs/promises';
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
      const snap = await fetchRedisSnapshot(t, password || undefined, opts);
      const info = parseInfo(snap.info);
      const { badValues } = redisMetrics(set, info.fields, snap, opts.naming);
      return {
        skipped: info.malformedCount + badValues.length,
        examples: [...info.malformed, ...badValues].slice(0, 5),
      };
    },
  };
}
