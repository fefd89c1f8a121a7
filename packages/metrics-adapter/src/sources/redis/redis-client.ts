import { ScrapeError } from '../scrape-error.js';
import { type ExchangeOptions, exchange } from '../socket-exchange.js';
import type { RedisTarget } from './redis-target.js';
import { encodeCommand, RespError, RespReader, type RespValue } from './resp-reader.js';

export interface RedisSnapshot {
  info: string;
  /** CONFIG GET results (empty when CONFIG is disabled or renamed) */
  config: Map<string, string>;
  slowlogLength?: number;
  /** newest SLOWLOG entry (id 0, 0 µs when the log is empty, as redis_exporter reports it) */
  slowlogLast?: { id: number; micros: number };
}

const CONFIG_KEYS = ['maxmemory', 'maxclients', 'io-threads'] as const;

/**
 * Fetches everything a scrape needs in one pipelined round trip on a fresh connection:
 * [AUTH], INFO ALL, CONFIG GET maxmemory / maxclients / io-threads, SLOWLOG LEN, SLOWLOG GET 1. Errors of the optional
 * commands are ignored (managed Redis often disables CONFIG); a failed AUTH or INFO fails the scrape.
 */
export async function fetchRedisSnapshot(
  target: RedisTarget,
  password: string | undefined,
  opts: ExchangeOptions,
): Promise<RedisSnapshot> {
  const commands: string[][] = [];
  const pass = target.password ?? password;
  if (pass) commands.push(target.username ? ['AUTH', target.username, pass] : ['AUTH', pass]);
  commands.push(['INFO', 'ALL']);
  for (const k of CONFIG_KEYS) commands.push(['CONFIG', 'GET', k]);
  commands.push(['SLOWLOG', 'LEN'], ['SLOWLOG', 'GET', '1']);
  const request = commands.map(encodeCommand).join('');
  const replies = await exchange(target, request, new RespReader(commands.length, opts.maxBytes), opts);
  let i = 0;
  if (pass) {
    const auth = replies[i++];
    if (auth instanceof RespError) throw new ScrapeError('auth', `authentication failed: ${auth.message}`);
  }
  const info = replies[i++];
  if (info instanceof RespError) {
    const reason = /^(NOAUTH|WRONGPASS|NOPERM)/.test(info.message) ? 'auth' : 'protocol';
    throw new ScrapeError(reason, `INFO failed: ${info.message}`);
  }
  if (typeof info !== 'string') throw new ScrapeError('protocol', 'INFO did not return a bulk string');
  const config = new Map<string, string>();
  for (let k = 0; k < CONFIG_KEYS.length; k++) addConfig(config, replies[i++]);
  const slowlog = replies[i++];
  const last = slowlogLast(replies[i++]);
  return {
    info,
    config,
    ...(typeof slowlog === 'number' ? { slowlogLength: slowlog } : {}),
    ...(last ? { slowlogLast: last } : {}),
  };
}

/** SLOWLOG GET 1 -> [[id, timestamp, micros, ...]] or [] */
function slowlogLast(reply: RespValue | undefined): RedisSnapshot['slowlogLast'] {
  if (!Array.isArray(reply)) return undefined;
  if (reply.length === 0) return { id: 0, micros: 0 };
  const entry = reply[0];
  if (!Array.isArray(entry) || typeof entry[0] !== 'number' || typeof entry[2] !== 'number') return undefined;
  return { id: entry[0], micros: entry[2] };
}

function addConfig(into: Map<string, string>, reply: RespValue | undefined): void {
  if (!Array.isArray(reply)) return;
  for (let j = 0; j + 1 < reply.length; j += 2) {
    const k = reply[j];
    const v = reply[j + 1];
    if (typeof k === 'string' && typeof v === 'string') into.set(k, v);
  }
}
