import { chmodSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from '@dds/core/logger';
import { parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { PoolConfig } from '../config/pool-schema.js';
import type { ClientSession, InputBudgetLimit, Limits, SessionContext } from '../pool/client-session.js';
import type { ServerPool } from '../pool/server-pool.js';
import type { HotKeys } from '../stats/hot-keys.js';

export interface ClientCounter {
  /** clients over all pools */
  current: number;
  max: number;
}

/** What every client connection of the process shares: limits, budget, the idle clock. */
export interface ClientSettings {
  limits: Limits;
  inputBudget: InputBudgetLimit;
  /** ms without traffic after which a client is closed; 0 = never */
  idleTimeout: number;
  clock: { now: number };
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
 * global client limit (extra clients get one error reply and are closed at once), hands each
 * connection to a protocol session, and closes clients idle for longer than the idle timeout.
 */
export class PoolListener {
  private server: NetServer | null = null;
  private readonly sessions = new Set<ClientSession>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    readonly pool: ServerPool,
    private readonly session: (accepted: Socket, ctx: SessionContext) => ClientSession,
    private readonly tooMany: Buffer,
    private readonly settings: () => ClientSettings,
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
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Advances the clock the sessions stamp their activity with, and closes idle clients. */
  private sweep(): void {
    const s = this.settings();
    const now = Date.now();
    s.clock.now = now;
    if (s.idleTimeout <= 0) return;
    let closed = 0;
    for (const c of this.sessions) {
      if (c.idleFor(now, s.idleTimeout)) {
        c.close();
        closed++;
      }
    }
    if (closed > 0) {
      this.pool.stats.idleClosed += closed;
      this.logger.debug(
        { pool: this.pool.name, closed, idleTimeoutMs: s.idleTimeout },
        'idle clients closed',
      );
    }
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
      this.logRejected(accepted.remoteAddress);
      accepted.on('error', () => {});
      // one error line, then closed at once: the slot is not held while the client lingers
      accepted.end(this.tooMany, () => accepted.destroy());
      return;
    }
    this.clients.current++;
    stats.clientConnections++;
    stats.totalConnections++;
    const s = this.settings();
    const session = this.session(accepted, {
      pool: this.pool,
      limits: s.limits,
      hotKeys: this.hotKeys(),
      logger: this.logger,
      inputBudget: s.inputBudget,
      clock: s.clock,
    });
    this.sessions.add(session);
    session.socket.on('close', () => {
      this.clients.current--;
      stats.clientConnections--;
      stats.clientEof++;
      this.sessions.delete(session);
    });
  }

  /** Stops accepting; open client connections are left to finish (or closed at the deadline). */
  async stopAccepting(): Promise<void> {
    const s = this.server;
    this.server = null;
    // close() alone: its callback would wait for every client connection to end
    s?.close();
  }

  /** One warning per 10 s at most: a flood of connections must not become a flood of log lines. */
  private rejectedSinceLog = 0;
  private rejectLoggedAt = 0;
  private logRejected(client: string | undefined): void {
    this.rejectedSinceLog++;
    const now = Date.now();
    if (now - this.rejectLoggedAt < 10_000) return;
    this.logger.warn(
      {
        pool: this.pool.name,
        client,
        refused: this.rejectedSinceLog,
        maxClients: this.clients.max,
        clientConnections: this.pool.cfg.client_connections,
      },
      'client limit reached; connections refused (counted in dds_shard_clients_rejected_total)',
    );
    this.rejectedSinceLog = 0;
    this.rejectLoggedAt = now;
  }

  /** Shutdown: each client is closed once it is owed nothing (idle ones at once). */
  drainClients(): void {
    for (const c of this.sessions) c.drain();
  }

  get openClients(): number {
    return this.sessions.size;
  }

  closeClients(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const c of this.sessions) c.close();
  }
}

/** How often idle clients are looked for (and the activity clock advanced). */
const SWEEP_MS = 250;
