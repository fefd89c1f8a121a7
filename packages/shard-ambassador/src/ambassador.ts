import { rmSync, writeFileSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import { AccessLog } from '@dds/core/access-log/access-log';
import type { AdminRoutes } from '@dds/core/admin/admin-router';
import { Gauge, METRIC_PREFIX } from '@dds/core/metrics';
import type { ComponentContext, Instance } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import type { PoolConfig } from './config/pool-schema.js';
import type { AmbassadorConfig } from './config/schema.js';
import type { DnsDiscovery } from './discovery/dns-discovery.js';
import { prepareHashes } from './hash/index.js';
import { HttpShardListener } from './http/http-shard-listener.js';
import { memcacheProtocol } from './memcache/memcache-protocol.js';
import { MemcacheSession } from './memcache/memcache-session.js';
import type { ClientSession, SessionContext } from './pool/client-session.js';
import { type PoolProtocol, ServerPool } from './pool/server-pool.js';
import { type ClientCounter, type ClientSettings, PoolListener } from './proxy/pool-listener.js';
import { redisProtocol } from './redis/redis-protocol.js';
import { RedisSession } from './redis/redis-session.js';
import { HotKeys } from './stats/hot-keys.js';
import { registerPoolMetrics } from './stats/prometheus.js';
import { startStatsServer, twemproxyStats } from './stats/twemproxy-stats.js';

export const VERSION = packageVersion(import.meta.url);

type Kind = 'redis' | 'memcache' | 'http';
const kindOf = (p: PoolConfig): Kind => (p.redis ? 'redis' : p.http ? 'http' : 'memcache');

interface TcpKind {
  protocol: () => PoolProtocol;
  session: (accepted: Socket, ctx: SessionContext) => ClientSession;
  tooMany: Buffer;
}

const TCP_KINDS: Record<'redis' | 'memcache', TcpKind> = {
  redis: {
    protocol: redisProtocol,
    session: (s, c) => new RedisSession(s, c),
    tooMany: Buffer.from('-ERR max number of clients reached\r\n'),
  },
  memcache: {
    protocol: memcacheProtocol,
    session: (s, c) => new MemcacheSession(s, c),
    tooMany: Buffer.from('SERVER_ERROR max number of clients reached\r\n'),
  },
};

interface Running {
  kind: Kind;
  pool: ServerPool;
  listener: PoolListener | HttpShardListener;
  discovery?: DnsDiscovery;
}

/** The shard ambassador: one listener per pool, the twemproxy stats port, admin extras. */
export function createAmbassador(ctx: ComponentContext<AmbassadorConfig>): Instance<AmbassadorConfig> {
  const { logger, registry } = ctx;
  let config = ctx.config;
  const running = new Map<string, Running>();
  const clients: ClientCounter = { current: 0, max: config.maxClients };
  let hotKeys = new HotKeys(config.hotkeys.top, config.hotkeys.window, config.hotkeys.sample);
  let stats: NetServer | null = null;
  const pools = () => [...running.values()].map((r) => r.pool);
  const clientSettings = (c: AmbassadorConfig, clock: { now: number }): ClientSettings => ({
    limits: {
      maxRequestSize: c.maxRequestSize,
      maxArrayLength: c.maxArrayLength,
      maxPending: c.maxPending,
      redisMaxInline: c.redisMaxInline,
      memcacheMaxLine: c.memcacheMaxLine,
      memcacheMaxKeyLength: c.memcacheMaxKeyLength,
      memcacheMaxValue: c.memcacheMaxValue,
      clientOutputHighWater: c.clientOutputHighWater,
      clientOutputLimit: c.clientOutputLimit,
    },
    inputBudget,
    idleTimeout: c.clientIdleTimeout,
    clock,
  });
  /** bytes of incomplete requests held over every client of the process */
  const inputBudget = { held: 0, max: config.maxInputBuffer };
  let settings = clientSettings(config, { now: Date.now() });
  new Gauge({
    name: `${METRIC_PREFIX}shard_input_buffer_bytes`,
    help: 'Bytes of incomplete client requests the proxy holds, over all clients (limit: --max-input-buffer).',
    registers: [registry],
    collect() {
      this.set(inputBudget.held);
    },
  });
  registerPoolMetrics(
    registry,
    pools,
    () => hotKeys,
    () => config.hotkeys.metricKeys,
  );
  const accessLog = new AccessLog({ component: 'shard-ambassador', registry, logger });
  accessLog.configure(config);

  /** With dns_discovery, the pool's servers come from DNS and follow it. */
  const discover = async (
    name: string,
    cfg: PoolConfig,
  ): Promise<{ cfg: PoolConfig; discovery?: DnsDiscovery }> => {
    if (!cfg.dns_discovery) return { cfg };
    // node:dns/promises loads with the first pool that discovers its servers
    const { DnsDiscovery } = await import('./discovery/dns-discovery.js');
    const discovery = new DnsDiscovery(
      cfg.dns_discovery,
      name,
      (servers) => {
        const r = running.get(name);
        if (r?.discovery === discovery) r.listener.apply({ ...r.pool.cfg, servers });
      },
      logger,
    );
    return { cfg: { ...cfg, servers: await discovery.start() }, discovery };
  };

  const startPool = async (name: string, wanted: PoolConfig): Promise<void> => {
    const { cfg, discovery } = await discover(name, wanted);
    const kind = kindOf(cfg);
    let r: Running;
    if (kind === 'http') {
      const listener = new HttpShardListener(name, cfg, logger, () => hotKeys, clients, accessLog);
      r = { kind, pool: listener.pool, listener };
    } else {
      const k = TCP_KINDS[kind];
      const pool = new ServerPool(name, cfg, k.protocol(), logger);
      const listener = new PoolListener(
        pool,
        k.session,
        k.tooMany,
        () => settings,
        () => hotKeys,
        clients,
        logger,
      );
      r = { kind, pool, listener };
    }
    r.discovery = discovery;
    try {
      await r.listener.start(cfg);
    } catch (err) {
      discovery?.stop();
      r.pool.close();
      throw err;
    }
    running.set(name, r);
    logger.info({ pool: name, listen: cfg.listen, kind, servers: cfg.servers.length }, 'pool listening');
  };

  /** Stops a pool: requests still waiting get `why` as their error reply, then clients are closed. */
  const stopPool = async (name: string, why: string): Promise<void> => {
    const r = running.get(name);
    if (!r) return;
    running.delete(name);
    r.discovery?.stop();
    await r.listener.stopAccepting();
    r.pool.close(why);
    r.listener.closeClients();
  };

  return {
    async start() {
      await prepareHashes(Object.values(config.pools).map((p) => p.hash));
      if (config.output) logger.warn({ output: config.output }, '-o/--output is ignored: logs go to stdout');
      for (const [name, cfg] of Object.entries(config.pools)) await startPool(name, cfg);
      if (config.statsPort > 0) {
        stats = await startStatsServer(config.statsAddr, config.statsPort, pools, VERSION);
      }
      if (config.pidFile) writeFileSync(config.pidFile, `${process.pid}\n`);
    },

    async reload(next) {
      await prepareHashes(Object.values(next.pools).map((p) => p.hash));
      accessLog.configure(next); // a destination that cannot be opened refuses the reload
      for (const [name, wanted] of Object.entries(next.pools)) {
        const r = running.get(name);
        if (r && r.pool.cfg.listen === wanted.listen && r.kind === kindOf(wanted)) {
          r.discovery?.stop();
          const { cfg, discovery } = await discover(name, wanted);
          r.discovery = discovery;
          r.listener.apply(cfg);
          logger.info({ pool: name, servers: cfg.servers.length }, 'pool updated in place');
        } else {
          if (r) await stopPool(name, 'the pool was restarted by a configuration change');
          await startPool(name, wanted);
        }
      }
      for (const name of [...running.keys()])
        if (!next.pools[name]) await stopPool(name, 'the pool was removed from the configuration');
      config = next;
      clients.max = next.maxClients;
      inputBudget.max = next.maxInputBuffer;
      // new limits apply to clients that connect from now on; the idle timeout to all
      settings = clientSettings(next, settings.clock);
      const h = next.hotkeys;
      if (h.top !== hotKeys.top || h.window !== hotKeys.windowMs || h.sample !== hotKeys.sample) {
        hotKeys = new HotKeys(h.top, h.window, h.sample);
      }
    },

    /** Not ready while a server refuses the proxy's credentials or its TLS handshake fails. */
    ready() {
      // one line per pool: its first failing server, and how many more fail
      const problems: string[] = [];
      for (const [name, r] of running) {
        const failing = r.pool.allServers().filter((s) => s.problem !== null);
        const s = failing[0];
        if (s === undefined) continue;
        const more = failing.length > 1 ? ` (and ${failing.length - 1} more servers)` : '';
        problems.push(`pool ${name}: server ${s.spec.name} (${s.address}) ${s.problem}${more}`);
      }
      return problems.length === 0 ? true : problems.join('; ');
    },

    /** TLS files of the pools: a rotated certificate or CA is applied like a config change. */
    watchedFiles(c) {
      return Object.values(c.pools).flatMap((p) =>
        p.tls
          ? [p.tls.ca_file, p.tls.cert_file, p.tls.key_file].filter((f): f is string => f !== undefined)
          : [],
      );
    },

    async drain(deadline) {
      for (const r of running.values()) await r.listener.stopAccepting();
      stats?.close();
      // clients owed nothing close now, the others once their replies are written
      for (const r of running.values()) if (r.listener instanceof PoolListener) r.listener.drainClients();
      while (Date.now() < deadline && [...running.values()].some((r) => r.listener.openClients > 0)) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const name of [...running.keys()])
        await stopPool(name, 'the proxy is shutting down: no reply before --drain-timeout');
      await accessLog.close();
      if (config.pidFile) rmSync(config.pidFile, { force: true });
    },

    adminRoutes(app: AdminRoutes) {
      app.get('/hotkeys', async (req) => {
        const q = req.query as { limit?: string; pool?: string };
        const limit = Math.min(1000, Number(q.limit) || hotKeys.top);
        const keys = hotKeys
          .list(hotKeys.top > 0 ? Math.max(limit, 1) : 0)
          .filter((k) => !q.pool || k.pool === q.pool);
        return { windowSeconds: hotKeys.windowMs / 1000, sample: hotKeys.sample, keys };
      });
      app.get('/pools', async () =>
        Object.fromEntries(
          [...running].map(([name, r]) => [
            name,
            {
              kind: r.kind,
              listen: r.pool.cfg.listen,
              hash: r.pool.cfg.hash,
              distribution: r.pool.cfg.distribution,
              servers: r.pool.servers.map((s) => ({
                name: s.spec.name,
                address: s.address,
                weight: s.spec.weight,
                ejected: s.nextRetry > Date.now(),
                connections: s.stats.connections,
                inFlight: s.stats.inFlight,
              })),
            },
          ]),
        ),
      );
      app.get('/locate', async (req, reply) => {
        const q = req.query as { pool?: string; key?: string };
        const r = q.pool ? running.get(q.pool) : undefined;
        if (!r || q.key === undefined) return reply.code(400).send({ error: 'give ?pool=NAME&key=KEY' });
        const s = r.pool.locate(q.key);
        return { pool: q.pool, key: q.key, server: s?.spec.name ?? null, address: s?.address ?? null };
      });
      app.get('/stats', async (_req, reply) =>
        reply.type('application/json').send(twemproxyStats(pools(), VERSION)),
      );
    },
  };
}
