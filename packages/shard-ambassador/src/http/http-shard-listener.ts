import type { Socket } from 'node:net';
import { type AccessLog, accessAttr } from '@dds/core/access-log/access-log';
import type { ProxyRequest, ProxyResponse } from '@dds/core/http/proxy-contract';
import { proxyRequest } from '@dds/core/http/reverse-proxy';
import { createHttp1Server, type HttpFront } from '@dds/core/http/server/http1-server';
import { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { createUpstream, type Upstream } from '@dds/core/http/upstream';
import type { Logger } from '@dds/core/logger';
import { listen } from '@dds/core/net/listen';
import type { PoolConfig } from '../config/pool-schema.js';
import type { Server } from '../pool/server.js';
import { type PoolProtocol, ServerPool } from '../pool/server-pool.js';
import { type ClientCounter, listenAddress } from '../proxy/pool-listener.js';
import type { HotKeys } from '../stats/hot-keys.js';
import { type ShardKeyFn, shardKey } from './shard-key.js';

/**
 * HTTP pools reuse ServerPool for placement, ejection and per-server stats; the traffic itself
 * goes through core's undici keep-alive pools, so the raw server connections are never opened.
 */
const HTTP_POOL: PoolProtocol = {
  server: {
    createFramer: () => ({
      frame: () => {
        throw new Error('HTTP pools do not use raw server connections');
      },
      need: 0,
      reset: () => {},
    }),
    errorReply: (m) => Buffer.from(m),
  },
  handshake: () => null,
};

const NO_SERVERS = 'no live servers in the pool\n';
// the shared proxy flags are not offered here: these are their defaults (README, "HTTP mode")
const LIMITS = {
  maxHeaderSize: 16 * 1024,
  headerTimeout: 10_000,
  requestTimeout: 0,
  idleTimeout: 60_000,
  bodyHighWater: 64 * 1024,
  minBodyRate: 512,
};

/**
 * The consistent HTTP sharding proxy of the book (nginx `hash $request_uri consistent`): the
 * shard key (URI, header or cookie) picks a server through the pool's hash and distribution,
 * then core's proxy hot path streams the request and response.
 */
export class HttpShardListener {
  readonly pool: ServerPool;
  private server: HttpFront | null = null;
  private upstreams = new Map<Server, Upstream>();
  private key: ShardKeyFn;
  private draining = false;
  private readonly sockets = new Set<Socket>();
  private readonly trusted = new TrustedProxies([]);

  constructor(
    name: string,
    cfg: PoolConfig,
    logger: Logger,
    private readonly hotKeys: () => HotKeys,
    private readonly clients: ClientCounter,
    private readonly accessLog: AccessLog,
  ) {
    this.pool = new ServerPool(name, cfg, HTTP_POOL, logger);
    this.key = shardKey(cfg.shard_key);
    this.syncUpstreams();
  }

  private syncUpstreams(): void {
    const next = new Map<Server, Upstream>();
    for (const s of this.pool.servers) {
      const old = this.upstreams.get(s);
      next.set(
        s,
        old ??
          createUpstream(s.spec.port === 0 ? `unix:${s.spec.host}` : `http://${s.address}`, {
            connections: this.pool.cfg.server_connections * 32,
            headersTimeout: this.pool.cfg.timeout || undefined,
          }),
      );
    }
    for (const [s, u] of this.upstreams) if (!next.has(s)) void u.close();
    this.upstreams = next;
  }

  apply(cfg: PoolConfig): void {
    this.pool.apply(cfg);
    this.key = shardKey(cfg.shard_key);
    this.syncUpstreams();
  }

  async start(cfg: PoolConfig): Promise<void> {
    const server = createHttp1Server(LIMITS, (req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      const limit = this.pool.cfg.client_connections;
      if (
        this.clients.current >= this.clients.max ||
        (limit > 0 && this.pool.stats.clientConnections >= limit)
      ) {
        this.pool.stats.rejectedClients++;
        s.destroy();
        return;
      }
      this.clients.current++;
      this.pool.stats.clientConnections++;
      this.pool.stats.totalConnections++;
      this.sockets.add(s);
      s.on('close', () => {
        this.clients.current--;
        this.pool.stats.clientConnections--;
        this.sockets.delete(s);
      });
    });
    const { address } = listenAddress(cfg.listen);
    if (typeof address === 'string') throw new Error(`pool ${this.pool.name}: listen: ${address}`);
    await listen(server, address, cfg.backlog);
    this.server = server;
  }

  private handle(req: ProxyRequest, res: ProxyResponse): void {
    const key = Buffer.from(this.key(req));
    const hot = this.hotKeys();
    if (hot.enabled) hot.record(this.pool.name, key, 0, key.length);
    const server = this.pool.pick(key, 0, key.length);
    const upstream = server && this.upstreams.get(server);
    if (!server || !upstream) {
      this.pool.stats.forwardError++;
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end(NO_SERVERS);
      if (this.accessLog.enabled)
        this.accessLog.log(req, 503, 0, NO_SERVERS.length, undefined, accessAttr('dds.pool', this.pool.name));
      return;
    }
    server.stats.requests++;
    server.stats.inFlight++;
    proxyRequest(req, res, upstream, {
      trusted: this.trusted,
      proto: 'http',
      forwarded: false,
      draining: () => this.draining,
      responseHeaders: () => ['x-dds-shard', server.spec.name],
      accessLog: this.accessLog,
      accessAttributes: () =>
        accessAttr('dds.pool', this.pool.name) + accessAttr('dds.shard', server.spec.name),
      onDone: (_req, _status, seconds, failure) => {
        server.stats.inFlight--;
        if (failure === 'upstream_error' || failure === 'upstream_timeout') {
          if (failure === 'upstream_timeout') server.stats.timeouts++;
          else server.stats.errors++;
          server.failed();
          return;
        }
        server.stats.responses++;
        server.stats.observe(seconds);
        server.succeeded();
      },
    });
  }

  async stopAccepting(): Promise<void> {
    this.draining = true;
    this.server?.close();
    this.server = null;
  }

  get openClients(): number {
    return this.sockets.size;
  }

  closeClients(): void {
    for (const s of this.sockets) s.destroy();
    for (const u of this.upstreams.values()) void u.close();
  }
}
