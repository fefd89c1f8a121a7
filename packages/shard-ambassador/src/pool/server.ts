import type { Logger } from '@dds/core/logger';
import type { PoolTls } from '../config/pool-tls.js';
import type { ServerSpec } from '../config/server-spec.js';
import type { ServerProtocol } from './protocol.js';
import { type Handshake, ServerConnection } from './server-connection.js';
import { ServerStats } from './server-stats.js';

/** What a server needs from its pool: settings, and a hook to rebuild placement on ejection. */
export interface ServerOwner {
  readonly name: string;
  readonly timeout: number;
  readonly autoEject: boolean;
  readonly failureLimit: number;
  readonly retryTimeout: number;
  readonly logger: Logger;
  readonly tls: PoolTls | null;
  onEjected(server: Server): void;
}

/**
 * A shard: `server_connections` connections used round-robin, a failure count, and
 * (with auto_eject_hosts) the time until which it is out of the distribution.
 */
export class Server {
  readonly stats = new ServerStats();
  readonly address: string;
  private readonly conns: ServerConnection[] = [];
  private next = 0;
  private failures = 0;
  /** ms epoch before which an ejected server is not used; 0 when live */
  nextRetry = 0;
  /** read replicas of this shard (pool `replicas:`) */
  replicas: Server[] = [];
  private nextReplica = 0;
  /** ms epoch of a connection failure not yet followed by a success; 0 when healthy */
  downSince = 0;
  /**
   * Why the last connection failed for a reason retrying will not cure (the server refused the
   * credentials, the TLS handshake failed); null when the last handshake succeeded. /readyz
   * reports it.
   */
  problem: string | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probeDelay = PROBE_FIRST_MS;

  constructor(
    readonly spec: ServerSpec,
    private readonly owner: ServerOwner,
    protocol: ServerProtocol,
    connections: number,
    handshake: Handshake | null,
  ) {
    this.address = spec.port === 0 ? spec.host : `${spec.host}:${spec.port}`;
    for (let i = 0; i < connections; i++) this.conns.push(new ServerConnection(this, protocol, handshake));
  }

  get timeout(): number {
    return this.owner.timeout;
  }

  get tls(): PoolTls | null {
    return this.owner.tls;
  }

  /** Opens one connection now to check the handshake (credentials, TLS) before any request. */
  probe(): void {
    this.conns[0]!.ensureOpen();
    for (const r of this.replicas) r.probe();
  }

  /** A connection got through TLS and the AUTH/SELECT handshake. */
  handshakeDone(): void {
    this.probeDelay = PROBE_FIRST_MS;
    if (this.probeTimer !== null) {
      clearTimeout(this.probeTimer);
      this.probeTimer = null;
    }
    if (this.problem === null) return;
    this.problem = null;
    this.owner.logger.info(
      { pool: this.owner.name, server: this.spec.name, address: this.address },
      'server handshake succeeds again',
    );
  }

  /**
   * A connection failed in a way retries will not cure (credentials, TLS): logged once per
   * change, shown by /readyz, and checked again with backoff (1 s doubling to 30 s) so that
   * readiness returns once the secret or certificate is fixed, without waiting for a request.
   */
  markProblem(reason: string): void {
    if (this.problem !== reason) {
      this.owner.logger.error(
        { pool: this.owner.name, server: this.spec.name, address: this.address, reason },
        'server handshake failed; the pool is not ready',
      );
    }
    this.problem = reason;
    if (this.probeTimer !== null) return;
    const delay = this.probeDelay;
    this.probeDelay = Math.min(PROBE_MAX_MS, delay * 2);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      this.conns[0]!.ensureOpen();
    }, delay);
    this.probeTimer.unref();
  }

  /** The connection for the next request (round-robin when server_connections > 1). */
  connection(): ServerConnection {
    if (this.conns.length === 1) return this.conns[0]!;
    const c = this.conns[this.next]!;
    this.next = (this.next + 1) % this.conns.length;
    return c;
  }

  /** Opens the connections now (preconnect). */
  preconnect(): void {
    for (const c of this.conns) c.ensureOpen();
  }

  connected(): void {
    this.downSince = 0;
    this.owner.logger.debug({ pool: this.owner.name, server: this.spec.name }, 'server connected');
  }

  succeeded(): void {
    this.failures = 0;
    this.downSince = 0;
  }

  /** The server closed an idle connection: usually it went away; reads move to replicas until it answers. */
  closed(): void {
    if (this.downSince === 0) this.downSince = Date.now();
  }

  /** Down after a failure, until a success; retried (as up) once server_retry_timeout passed. */
  get down(): boolean {
    return this.downSince !== 0 && Date.now() - this.downSince < this.owner.retryTimeout;
  }

  /**
   * Where a read for this shard goes: with `replica` preference the replicas in turn, else the
   * primary; a down primary sends reads to a live replica; the primary when nothing else is up.
   */
  readTarget(preferReplica: boolean): Server {
    const n = this.replicas.length;
    if (n === 0 || (!preferReplica && !this.down)) return this;
    for (let i = 0; i < n; i++) {
      const r = this.replicas[this.nextReplica]!;
      this.nextReplica = (this.nextReplica + 1) % n;
      if (!r.down) return r;
    }
    return this;
  }

  /** A connection failed or timed out: count it, and eject the server at the limit. */
  failed(): void {
    if (this.downSince === 0) this.downSince = Date.now();
    this.failures++;
    if (!this.owner.autoEject || this.failures < this.owner.failureLimit || this.nextRetry > Date.now())
      return;
    this.failures = 0;
    this.nextRetry = Date.now() + this.owner.retryTimeout;
    this.stats.ejections++;
    this.stats.ejectedAt = Date.now();
    this.owner.logger.warn(
      {
        pool: this.owner.name,
        server: this.spec.name,
        address: this.address,
        retryInMs: this.owner.retryTimeout,
      },
      'server ejected after repeated failures',
    );
    this.owner.onEjected(this);
  }

  logProtocolError(err: Error): void {
    this.owner.logger.error(
      { pool: this.owner.name, server: this.spec.name, err: err.message },
      'bad reply from server',
    );
  }

  /** Closes the connections once their waiting requests are answered (reload removed it). */
  retire(): void {
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    for (const c of this.conns) c.retire();
    for (const r of this.replicas) r.retire();
  }

  destroy(why?: string): void {
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    for (const c of this.conns) c.destroy(why);
    for (const r of this.replicas) r.destroy(why);
  }

  get pending(): number {
    let n = 0;
    for (const c of this.conns) n += c.pending;
    return n;
  }
}

const PROBE_FIRST_MS = 1000;
const PROBE_MAX_MS = 30_000;
