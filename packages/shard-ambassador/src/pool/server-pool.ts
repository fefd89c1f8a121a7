import type { Logger } from '@dds/core/logger';
import type { PoolConfig } from '../config/pool-schema.js';
import { replicaSpec } from '../config/pool-schema.js';
import { loadPoolTls, type PoolTls } from '../config/pool-tls.js';
import { parseServer, type ServerSpec } from '../config/server-spec.js';
import { Placement } from './placement.js';
import type { ServerProtocol } from './protocol.js';
import { Server, type ServerOwner } from './server.js';
import type { Handshake } from './server-connection.js';
import { PoolStats } from './server-stats.js';

/** How a pool talks to its servers, chosen by the protocol layer. */
export interface PoolProtocol {
  server: ServerProtocol;
  /** bytes sent on each new server connection, e.g. AUTH + SELECT, and how many replies they get */
  handshake(cfg: PoolConfig): Handshake | null;
}

const specsOf = (cfg: PoolConfig): ServerSpec[] => cfg.servers.map((s) => parseServer(s) as ServerSpec);

/** Connection-level settings: when they change, every server connection is replaced. */
const connectionKey = (cfg: PoolConfig, tls: PoolTls | null): string =>
  JSON.stringify([
    cfg.server_connections,
    cfg.redis_auth ?? '',
    cfg.redis_username ?? '',
    cfg.redis_db,
    cfg.redis,
    cfg.replicas,
    tls?.fingerprint ?? '',
  ]);

/**
 * A nutcracker pool's servers and placement. Reload swaps the server list in place: servers
 * that stay keep their connections, removed ones close after answering what they hold, and
 * placement switches for the next request, so client connections never notice.
 */
export class ServerPool implements ServerOwner {
  readonly stats = new PoolStats();
  servers: Server[] = [];
  cfg: PoolConfig;
  private placement!: Placement;
  /** the pool's TLS settings (tls: block), loaded when the config is applied */
  tls: PoolTls | null = null;
  /** ms epoch at which an ejected server is due back; 0 when none is ejected */
  private nextRebuild = 0;

  constructor(
    readonly name: string,
    cfg: PoolConfig,
    private readonly protocol: PoolProtocol,
    readonly logger: Logger,
  ) {
    this.cfg = cfg;
    this.apply(cfg);
  }

  get timeout(): number {
    return this.cfg.timeout;
  }
  get autoEject(): boolean {
    return this.cfg.auto_eject_hosts;
  }
  get failureLimit(): number {
    return this.cfg.server_failure_limit;
  }
  get retryTimeout(): number {
    return this.cfg.server_retry_timeout;
  }

  /** The server for the key buf[start, end), or null when no server is live. */
  pick(buf: Buffer, start: number, end: number): Server | null {
    const i = this.pickIndex(buf, start, end);
    return i < 0 ? null : this.servers[i]!;
  }

  /** Index in `servers` of the server for the key buf[start, end), or -1 when none is live. */
  pickIndex(buf: Buffer, start: number, end: number): number {
    if (this.nextRebuild !== 0 && Date.now() >= this.nextRebuild) this.rebuild();
    return this.placement.index(buf, start, end);
  }

  /** every server with its replicas (metrics, stats) */
  allServers(): Server[] {
    return this.servers.flatMap((s) => (s.replicas.length ? [s, ...s.replicas] : [s]));
  }

  /** true when reads should go to replicas first (read_preference: replica) */
  get preferReplica(): boolean {
    return this.cfg.read_preference === 'replica';
  }

  /** Index of the server for a key string (tests, admin lookups). */
  locate(key: string): Server | null {
    const b = Buffer.from(key);
    return this.pick(b, 0, b.length);
  }

  onEjected(): void {
    this.stats.serverEjects++;
    this.rebuild();
  }

  /** Rebuilds placement over the servers not ejected right now. */
  private rebuild(): void {
    const now = Date.now();
    let next = 0;
    for (const s of this.servers) {
      if (s.nextRetry !== 0 && s.nextRetry <= now) s.nextRetry = 0;
      if (s.nextRetry > 0 && (next === 0 || s.nextRetry < next)) next = s.nextRetry;
    }
    this.nextRebuild = next;
    const live = this.cfg.auto_eject_hosts ? (i: number) => this.servers[i]!.nextRetry === 0 : () => true;
    this.placement.build(live);
  }

  /** Applies a (new) pool config; servers with the same entry and connection settings are kept. */
  apply(cfg: PoolConfig): void {
    const prevKey = connectionKey(this.cfg, this.tls);
    // the files were checked when the config was validated; read again, they are what is used
    const tls = cfg.tls === undefined ? null : loadPoolTls(cfg.tls);
    if (tls !== null && !tls.verify)
      this.logger.warn({ pool: this.name }, 'tls.verify is false: server certificates are not checked');
    this.cfg = cfg;
    this.tls = tls;
    const specs = specsOf(cfg);
    const keep = new Map<string, Server>();
    const sameConnections = this.servers.length > 0 && prevKey === connectionKey(cfg, tls);
    if (sameConnections) for (const s of this.servers) keep.set(`${s.spec.pname} ${s.spec.name}`, s);
    const handshake = this.protocol.handshake(cfg);
    const next = specs.map((spec) => {
      const k = `${spec.pname} ${spec.name}`;
      const old = keep.get(k);
      if (old) {
        keep.delete(k);
        return old;
      }
      const server = new Server(spec, this, this.protocol.server, cfg.server_connections, handshake);
      server.replicas = (cfg.replicas[spec.name] ?? []).map(
        (r) =>
          new Server(
            replicaSpec(r, spec.name),
            this,
            this.protocol.server,
            cfg.server_connections,
            handshake,
          ),
      );
      return server;
    });
    for (const s of this.servers) if (!next.includes(s)) s.retire();
    this.servers = next;
    this.placement = new Placement(cfg, specs);
    this.rebuild();
    if (cfg.preconnect) for (const s of next) s.preconnect();
    // credentials and certificates are checked at once, so /readyz tells a wrong one
    else if (handshake !== null || tls !== null) for (const s of next) s.probe();
  }

  /** Closes every server connection; requests still waiting are answered with an error. */
  close(why?: string): void {
    for (const s of this.servers) s.destroy(why);
  }
}
