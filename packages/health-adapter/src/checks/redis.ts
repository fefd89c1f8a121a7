import type * as z from '@dds/core/config/zod';
import { type RedisCommands, RedisSessionError, redisSession } from '@dds/core/redis/redis-session';
import { parseRedisNode } from '@dds/core/redis/redis-settings';
import { parseRedisUrl, type RedisTarget } from '@dds/core/redis/redis-target';
import type { redisCheck } from './check-spec.js';
import { readPassword } from './password.js';
import { CheckFailure, type FailureReason, type Probe } from './probe.js';

/** Replies bigger than this fail the check: a health check reads a few hundred bytes. */
const MAX_REPLY = 1 << 20;

/**
 * Redis through core's session (RESP over one fresh connection per run, no reconnect loop; a
 * kept connection would hide what a new client meets: maxclients, a changed password): a server, the primary the sentinels name, or the first Cluster seed that
 * answers. AUTH (ACL user) when a password is set; PING must answer PONG (a server loading its
 * dataset answers -LOADING), INFO must not say loading:1, a Sentinel's primary must be a primary,
 * a Cluster node must say cluster_state:ok, and with replicaLink a replica's link to its master
 * must be up.
 */
export function redisProbe(spec: z.infer<typeof redisCheck>): Probe {
  const base = targetOf(spec);
  return {
    componentType: 'datastore',
    async run(signal) {
      const password = readPassword(spec);
      const target: RedisTarget = { ...base, ...(password !== undefined ? { password } : {}) };
      const nodes = target.topology === 'cluster' ? target.nodes : [undefined];
      let last: unknown;
      for (const node of nodes) {
        try {
          const t: RedisTarget = node ? { ...target, topology: 'standalone', nodes: [node] } : target;
          return await redisSession(t, { timeoutMs: 3_600_000, maxBytes: MAX_REPLY, signal }, (client) =>
            check(client, spec, target.topology),
          );
        } catch (err) {
          last = err;
          const f = failure(err);
          // a wrong password or certificate is wrong on every seed
          if (signal.aborted || f.reason === 'auth' || f.reason === 'tls') break;
        }
      }
      throw failure(last);
    },
  };
}

async function check(
  redis: RedisCommands,
  spec: z.infer<typeof redisCheck>,
  topology: RedisTarget['topology'],
): Promise<string> {
  const pong = await redis.call('PING');
  if (pong !== 'PONG') throw new CheckFailure('protocol', `PING answered ${JSON.stringify(pong)}`);
  const fields = infoFields(String(await redis.call('INFO')));
  if (fields.get('loading') === '1') throw new CheckFailure('unhealthy', 'loading the dataset into memory');
  const role = fields.get('role') ?? 'unknown';
  if (topology === 'sentinel' && role !== 'master')
    throw new CheckFailure('unhealthy', `the sentinels' primary answers as ${role}`);
  if (topology === 'cluster') {
    const cluster = infoFields(String(await redis.call('CLUSTER', 'INFO')));
    const state = cluster.get('cluster_state');
    if (state !== 'ok') throw new CheckFailure('unhealthy', `cluster_state:${state ?? 'unknown'}`);
    return `cluster ok, ${cluster.get('cluster_known_nodes')} nodes, ${cluster.get('cluster_slots_ok')} slots ok`;
  }
  if (spec.replicaLink && role === 'slave') {
    const link = fields.get('master_link_status');
    if (link !== 'up')
      throw new CheckFailure(
        'unhealthy',
        `replica link to ${fields.get('master_host')}:${fields.get('master_port')} is ${link ?? 'unknown'}`,
      );
  }
  return `PONG, role ${role === 'slave' ? 'replica' : role}`;
}

function targetOf(spec: z.infer<typeof redisCheck>): RedisTarget {
  const tls = {
    ...(spec.tlsCa ? { tlsCaFile: spec.tlsCa } : {}),
    ...(spec.tlsCert ? { tlsCertFile: spec.tlsCert } : {}),
    ...(spec.tlsKey ? { tlsKeyFile: spec.tlsKey } : {}),
    tlsSkipVerify: spec.tlsInsecure,
  };
  const nodes = (list: string[]) =>
    list.map((n) => parseRedisNode(n) as { host: string; port: number; tls: boolean });
  if (spec.cluster.length || spec.sentinels.length) {
    const list = nodes(spec.cluster.length ? spec.cluster : spec.sentinels);
    return {
      topology: spec.cluster.length ? 'cluster' : 'sentinel',
      nodes: list.map(({ host, port }) => ({ host, port })),
      ...(spec.sentinels.length ? { master: spec.sentinelMaster } : {}),
      db: 0,
      tls: spec.tls || list.some((n) => n.tls),
      ...(spec.username ? { username: spec.username } : {}),
      ...tls,
    };
  }
  const t = parseRedisUrl(spec.url!) as RedisTarget;
  return {
    ...t,
    tls: spec.tls || t.tls,
    ...(spec.username || t.username ? { username: spec.username ?? t.username } : {}),
    ...tls,
  };
}

const REASONS: Record<string, FailureReason> = {
  auth: 'auth',
  permission: 'auth',
  tls: 'tls',
  unreachable: 'connect',
  cluster_down: 'connect',
  timeout: 'timeout',
  loading: 'unhealthy',
  too_large: 'protocol',
  protocol: 'protocol',
  config: 'error',
  error: 'error',
};

/** What a run's error means for the check: reason and a short message. */
function failure(err: unknown): CheckFailure {
  if (err instanceof CheckFailure) return err;
  if (err instanceof RedisSessionError) {
    if (err.reason === 'config' && /CA file/.test(err.message)) return new CheckFailure('tls', err.message);
    if (err.reason === 'auth') return new CheckFailure('auth', `AUTH: ${err.message}`);
    if (err.reason === 'protocol' && /Protocol error/.test(err.message))
      return new CheckFailure(
        'protocol',
        `not a Redis reply (${err.message.replace(/\. Please report this\.$/, '')})`,
      );
    if (err.reason === 'tls') return new CheckFailure('tls', err.message.replace(/^TLS: /, ''));
    return new CheckFailure(REASONS[err.reason] ?? 'error', err.message);
  }
  const message = (err as Error)?.message ?? String(err);
  // a command's own error reply
  if (/^(NOAUTH|WRONGPASS|NOPERM)/.test(message)) return new CheckFailure('auth', message);
  return new CheckFailure('unhealthy', message);
}

/** The key:value lines of INFO (sections and comments skipped). */
export function infoFields(info: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of info.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line[0] === '#') continue;
    out.set(line.slice(0, colon), line.slice(colon + 1).trimEnd());
  }
  return out;
}
