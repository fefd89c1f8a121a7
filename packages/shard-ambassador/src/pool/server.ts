import type { Logger } from '@dds/core/logger';
import type { ServerSpec } from '../config/server-spec.js';
import type { ServerProtocol } from './protocol.js';
import { ServerConnection } from './server-connection.js';
import { ServerStats } from './server-stats.js';

/** What a server needs from its pool: settings, and a hook to rebuild placement on ejection. */
export interface ServerOwner {
  readonly name: string;
  readonly timeout: number;
  readonly autoEject: boolean;
  readonly failureLimit: number;
  readonly retryTimeout: number;
  readonly logger: Logger;
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

  constructor(
    readonly spec: ServerSpec,
    private readonly owner: ServerOwner,
    protocol: ServerProtocol,
    connections: number,
    handshake: { bytes: Buffer; replies: number } | null,
  ) {
    this.address = spec.port === 0 ? spec.host : `${spec.host}:${spec.port}`;
    for (let i = 0; i < connections; i++) this.conns.push(new ServerConnection(this, protocol, handshake));
  }

  get timeout(): number {
    return this.owner.timeout;
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
    for (const c of this.conns) c.retire();
    for (const r of this.replicas) r.retire();
  }

  destroy(): void {
    for (const c of this.conns) c.destroy();
    for (const r of this.replicas) r.destroy();
  }

  get pending(): number {
    let n = 0;
    for (const c of this.conns) n += c.pending;
    return n;
  }
}
