import { chmodSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from '@dds/core/logger';
import { parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { PoolConfig } from '../config/pool-schema.js';
import type { ClientSession, Limits, SessionContext } from '../pool/client-session.js';
import type { ServerPool } from '../pool/server-pool.js';
import type { HotKeys } from '../stats/hot-keys.js';

export interface ClientCounter {
  /** clients over all pools */
  current: number;
  max: number;
}

/** Parses a nutcracker `listen:` value: host:port, or "/path/sock [octal permissions]". */
export function listenAddress(listenText: string): {
  address: ReturnType<typeof parseAddress>;
  perm?: number;
} {
  if (listenText.startsWith('/')) {
    const [path, perm] = listenText.split(' ');
    return { address: { kind: 'unix', path: path! }, perm: perm ? Number.parseInt(perm, 8) : undefined };
  }
  return { address: parseAddress(listenText) };
}

/**
 * The client-facing listener of one TCP pool. It enforces the pool's client_connections and the
 * global client limit (extra clients get one error reply and are closed) and hands each
 * connection to a protocol session.
 */
export class PoolListener {
  private server: NetServer | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly pool: ServerPool,
    private readonly session: (accepted: Socket, ctx: SessionContext) => ClientSession,
    private readonly tooMany: Buffer,
    private readonly limits: () => Limits,
    private readonly hotKeys: () => HotKeys,
    private readonly clients: ClientCounter,
    private readonly logger: Logger,
  ) {}

  get listen(): string {
    return this.pool.cfg.listen;
  }

  async start(cfg: PoolConfig): Promise<void> {
    const server = createServer(
      // paused: the session takes the socket over to read it with onread (see adoptSocket)
      { allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
      (s) => this.accept(s),
    );
    const { address, perm } = listenAddress(cfg.listen);
    if (typeof address === 'string') throw new Error(`pool ${this.pool.name}: listen: ${address}`);
    await listen(server, address, cfg.backlog);
    if (address.kind === 'unix' && perm !== undefined) chmodSync(address.path, perm);
    this.server = server;
  }

  /** Reload: new servers/settings for the same listen address; clients stay connected. */
  apply(cfg: PoolConfig): void {
    this.pool.apply(cfg);
  }

  private accept(accepted: Socket): void {
    const stats = this.pool.stats;
    const limit = this.pool.cfg.client_connections;
    if (this.clients.current >= this.clients.max || (limit > 0 && stats.clientConnections >= limit)) {
      stats.rejectedClients++;
      this.logger.warn(
        { pool: this.pool.name, client: accepted.remoteAddress },
        'client limit reached; connection refused',
      );
      accepted.on('error', () => {});
      // read (and drop) what it sends, so its end arrives and the socket closes
      accepted.resume();
      accepted.end(this.tooMany);
      return;
    }
    this.clients.current++;
    stats.clientConnections++;
    stats.totalConnections++;
    const { socket } = this.session(accepted, {
      pool: this.pool,
      limits: this.limits(),
      hotKeys: this.hotKeys(),
      logger: this.logger,
    });
    this.sockets.add(socket);
    socket.on('close', () => {
      this.clients.current--;
      stats.clientConnections--;
      stats.clientEof++;
      this.sockets.delete(socket);
    });
  }

  /** Stops accepting; open client connections are left to finish (or closed at the deadline). */
  async stopAccepting(): Promise<void> {
    const s = this.server;
    this.server = null;
    // close() alone: its callback would wait for every client connection to end
    s?.close();
  }

  get openClients(): number {
    return this.sockets.size;
  }

  closeClients(): void {
    for (const s of this.sockets) s.destroy();
  }
}
