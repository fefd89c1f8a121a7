import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, freePorts } from './ports.js';
import { type Proc, run, sleep, start, waitForPort } from './process.js';
import { type Service, startRedis, tempDir } from './services.js';

const cli = (port: number, ...args: string[]) => run('redis-cli', ['-p', String(port), ...args]);

/** Polls until a condition holds, or fails with what was last seen. */
async function until(what: string, check: () => Promise<string | true>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await check();
    if (r === true) return;
    last = r;
    if (Date.now() > end) throw new Error(`${what} not reached within ${timeoutMs}ms (last: ${last})`);
    await sleep(100);
  }
}

export interface RedisCluster {
  nodes: Service[];
  /** `127.0.0.1:PORT` of every node (seeds) */
  seeds: string[];
  /** ports of the primaries serving slots now */
  primaries(): Promise<number[]>;
  /** the port of the primary that owns a key's slot */
  primaryOf(key: string): Promise<number>;
  /** waits until every live node reports cluster_state:ok and `port` is no longer a primary */
  waitFailover(deadPort: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of real redis-server processes (3 primaries, 3 replicas by default) made with
 * `redis-cli --cluster create`, with a short node timeout so a killed primary fails over in a
 * few seconds. `extra` arguments go to every node (TLS, ACL users).
 */
export async function startRedisCluster(
  o: { primaries?: number; replicas?: number; nodeTimeoutMs?: number; extra?: string[] } = {},
): Promise<RedisCluster> {
  const n = (o.primaries ?? 3) * (1 + (o.replicas ?? 1));
  const ports = await freePorts(n);
  const nodes = await Promise.all(
    ports.map((p) =>
      startRedis(
        [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${p}.conf`,
          '--cluster-node-timeout',
          String(o.nodeTimeoutMs ?? 2000),
          // a replica that never synced cannot be elected: sync at once, not after 5 s
          '--repl-diskless-sync-delay',
          '0',
          ...(o.extra ?? []),
        ],
        p,
      ),
    ),
  );
  const created = await run(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      String(o.replicas ?? 1),
      '--cluster-yes',
    ],
    { timeoutMs: 60_000 },
  );
  if (created.code !== 0)
    throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
  const live = new Set(ports);
  const allOk = async (): Promise<string | true> => {
    for (const p of live) {
      const info = (await cli(p, 'cluster', 'info')).stdout;
      if (!/cluster_state:ok/.test(info)) return `127.0.0.1:${p}: ${info.split('\n')[0]}`;
    }
    return true;
  };
  await until('cluster_state:ok', allOk);
  // and every replica in sync with its primary (until then a killed primary is not replaced)
  await until('replicas in sync', async () => {
    for (const p of ports) {
      const info = (await cli(p, 'info', 'replication')).stdout;
      if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return `127.0.0.1:${p} not in sync`;
    }
    return true;
  });
  const primaries = async () => {
    const out = (await cli([...live][0]!, 'cluster', 'nodes')).stdout;
    return out
      .split('\n')
      .filter((l) => /\bmaster\b/.test(l) && !/\bfail\b/.test(l) && l.split(' ').length > 8)
      .map((l) => Number(/:(\d+)@/.exec(l)![1]));
  };
  return {
    nodes,
    seeds: ports.map((p) => `127.0.0.1:${p}`),
    primaries,
    async primaryOf(key) {
      const slot = Number((await cli([...live][0]!, 'cluster', 'keyslot', key)).stdout.trim());
      const shards = (await cli([...live][0]!, 'cluster', 'slots')).stdout.split('\n');
      // redis-cli prints: start, end, then ip, port, id per node; the first node is the primary
      for (let i = 0; i + 3 < shards.length; i++) {
        const [a, b] = [Number(shards[i]), Number(shards[i + 1])];
        if (
          Number.isInteger(a) &&
          Number.isInteger(b) &&
          slot >= a &&
          slot <= b &&
          shards[i + 2] === '127.0.0.1'
        )
          return Number(shards[i + 3]);
      }
      throw new Error(`no primary found for slot ${slot}`);
    },
    async waitFailover(deadPort) {
      live.delete(deadPort);
      await until(`failover of 127.0.0.1:${deadPort}`, async () => {
        const ok = await allOk();
        if (ok !== true) return ok;
        return (await primaries()).includes(deadPort) ? `${deadPort} still a primary` : true;
      });
    },
    async stop() {
      await Promise.all(nodes.map((s) => s.proc.kill('SIGKILL')));
    },
  };
}

export interface SentinelSet {
  primary: Service;
  replica: Service;
  sentinels: Proc[];
  /** `127.0.0.1:PORT` of every sentinel */
  addresses: string[];
  master: string;
  /** the port of the primary the sentinels name now */
  currentPrimary(): Promise<number>;
  waitFailover(fromPort: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A Sentinel-managed primary: redis-server primary and replica, three redis-sentinel processes
 * (quorum 2) that fail over one second after the primary stops answering.
 */
export async function startSentinels(o: { extra?: string[]; master?: string } = {}): Promise<SentinelSet> {
  const master = o.master ?? 'dds-primary';
  const primary = await startRedis([...(o.extra ?? []), '--repl-diskless-sync-delay', '0']);
  const replica = await startRedis([...(o.extra ?? []), '--replicaof', '127.0.0.1', String(primary.port)]);
  await until('replica in sync', async () =>
    /master_link_status:up/.test((await cli(replica.port, 'info', 'replication')).stdout)
      ? true
      : 'link down',
  );
  const ports = await freePorts(3);
  const sentinels = ports.map((p) => {
    const dir = tempDir('sentinel');
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${p}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${master} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${master} 1000`,
        `sentinel failover-timeout ${master} 5000`,
        `sentinel parallel-syncs ${master} 1`,
        '',
      ].join('\n'),
    );
    return start('redis-sentinel', [conf]);
  });
  for (const p of ports) await waitForPort(p);
  const currentPrimary = async () => {
    const out = (await cli(ports[0]!, 'sentinel', 'get-master-addr-by-name', master)).stdout
      .trim()
      .split('\n');
    return Number(out[1]);
  };
  // every sentinel knows the others and the replica before the test starts
  await until('sentinels ready', async () => {
    for (const p of ports) {
      const info = (await cli(p, 'sentinel', 'master', master)).stdout;
      const m = /num-other-sentinels\n(\d+)/.exec(info);
      const r = /num-slaves\n(\d+)/.exec(info);
      if (Number(m?.[1]) < 2 || Number(r?.[1]) < 1)
        return `sentinel ${p}: ${m?.[1]} others, ${r?.[1]} replicas`;
    }
    return true;
  });
  return {
    primary,
    replica,
    sentinels,
    addresses: ports.map((p) => `127.0.0.1:${p}`),
    master,
    currentPrimary,
    async waitFailover(fromPort) {
      let now = fromPort;
      await until('sentinel failover', async () => {
        now = await currentPrimary();
        if (now === fromPort) return `still ${fromPort}`;
        const role = (await cli(now, 'role')).stdout;
        return /^master/.test(role) ? true : `${now} is ${role.split('\n')[0]}`;
      });
      return now;
    },
    async stop() {
      await Promise.all([
        ...sentinels.map((s) => s.kill('SIGKILL')),
        primary.proc.kill('SIGKILL'),
        replica.proc.kill('SIGKILL'),
      ]);
    },
  };
}

export interface TlsAclRedis extends Service {
  tlsPort: number;
  ca: string;
  user: string;
  password: string;
  passwordFile: string;
}

/**
 * redis-server with TLS only (`--port 0 --tls-port`) and an ACL user allowed what the dds
 * clients need; the default user is disabled, so only that user gets in.
 */
export async function startTlsAclRedis(cert: { cert: string; key: string }): Promise<TlsAclRedis> {
  const tlsPort = await freePort();
  const user = 'dds';
  const password = 'dds-secret-1';
  const dir = tempDir('redis-acl');
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${password}\n`);
  const s = await startRedis(
    [
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      cert.cert,
      '--tls-key-file',
      cert.key,
      '--tls-ca-cert-file',
      cert.cert,
      '--tls-auth-clients',
      'no',
      '--user',
      'default',
      'off',
      '--user',
      user,
      'on',
      `>${password}`,
      '~*',
      '&*',
      '+@all',
    ],
    undefined,
    { port: 0, readyPort: tlsPort },
  );
  return { ...s, tlsPort, ca: cert.cert, user, password, passwordFile };
}

/**
 * `--redis*` flags for a TlsAclRedis, as every dds component takes them: the right ones, a wrong
 * password (its file can be fixed later), and a CA that did not sign the server's certificate.
 */
export function tlsAclArgs(redis: TlsAclRedis, untrustedCa: string) {
  const wrongPasswordFile = join(tempDir('redis-wrong-pw'), 'password');
  writeFileSync(wrongPasswordFile, 'not-the-password\n');
  const base = (ca: string, passwordFile: string) => [
    '--redis',
    `rediss://127.0.0.1:${redis.tlsPort}`,
    '--redis-username',
    redis.user,
    '--redis-tls-ca-file',
    ca,
    '--redis-password-file',
    passwordFile,
  ];
  return {
    good: base(redis.ca, redis.passwordFile),
    wrongPassword: base(redis.ca, wrongPasswordFile),
    wrongCa: base(untrustedCa, redis.passwordFile),
    wrongPasswordFile,
  };
}
