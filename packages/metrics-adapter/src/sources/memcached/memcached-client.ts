import { type Endpoint, type ExchangeOptions, exchange } from '@dds/core/net/socket-exchange';
import { ScrapeError } from '../scrape-error.js';
import { type StatsBlock, StatsReader } from './stats-reader.js';

export interface MemcachedSnapshot {
  stats: StatsBlock;
  settings?: StatsBlock;
  items?: StatsBlock;
  slabs?: StatsBlock;
  malformed: number;
}

/** Parses `host:port` (memcached_exporter's --memcached.address); port defaults to 11211. */
export function parseMemcachedTarget(input: string): Endpoint | string {
  const s = input.trim().replace(/^memcached:\/\//, '');
  const m = /^(\[[^\]]+\]|[^:/\s]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return `invalid memcached address "${input}" (expected host:port)`;
  const port = m[2] ? Number(m[2]) : 11211;
  if (port < 1 || port > 65535) return `port out of range in "${input}"`;
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** `stats`, `stats settings`, `stats items` (and `stats slabs` if asked) in one pipelined round trip. */
export async function fetchMemcachedSnapshot(
  ep: Endpoint,
  withSlabs: boolean,
  opts: ExchangeOptions,
): Promise<MemcachedSnapshot> {
  const groups = ['stats', 'stats settings', 'stats items', ...(withSlabs ? ['stats slabs'] : [])];
  const reader = new StatsReader(groups.length);
  const blocks = await exchange(ep, groups.map((g) => `${g}\r\n`).join(''), reader, opts);
  const [stats, settings, items, slabs] = blocks;
  if (!(stats instanceof Map))
    throw new ScrapeError('protocol', `"stats" failed: ${(stats as Error).message}`);
  if (stats.size === 0) throw new ScrapeError('protocol', '"stats" returned no values');
  const ok = (b: StatsBlock | Error | undefined) => (b instanceof Map ? b : undefined);
  return { stats, settings: ok(settings), items: ok(items), slabs: ok(slabs), malformed: reader.malformed };
}
