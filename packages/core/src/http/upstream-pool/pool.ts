import type { ConnectionOptions } from 'node:tls';
import { PoolBusyError, type Transport, type TransportExchange } from '../transport.js';
import { Phase, UpstreamConnection } from './connection.js';
import { refusedByHttp1 } from './request-head.js';

/**
 * Where the pool connects: TCP (with `tls`, TLS: the options are asked for at each new
 * connection, so a reloaded certificate or CA applies to the next one) or a unix socket.
 */
export type PoolTarget =
  | { host: string; port: number; tls?: (() => ConnectionOptions) | undefined }
  | { path: string };

export interface Http1PoolOptions {
  connections: number;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
  maxHeaderSize?: number;
  /** requests that may wait for a connection; beyond, they fail at once (PoolBusyError) */
  queueLimit?: number;
  /** ms a request may wait for a connection (0: no limit) */
  queueTimeout?: number;
}

/**
 * Keep-alive HTTP/1.1 connections to one upstream (TCP, TLS or unix socket), one request per
 * connection at a time, most recently used first: core's Transport for HTTP/1.1. Requests beyond
 * the connection limit wait in FIFO order, in a bounded queue with a wait timeout
 * (PoolBusyError). Timeouts run off one coarse clock per pool instead of a timer per request.
 */
export class Http1Pool implements Transport {
  /** milliseconds, advanced by the pool's ticker */
  now = performance.now();
  readonly maxHeaderSize: number;
  readonly keepAliveTimeout: number;
  /** default wait for a response head (a request may bring its own) */
  readonly headersTimeout: number;
  private readonly all = new Set<UpstreamConnection>();
  private readonly idle: UpstreamConnection[] = [];
  private queue: TransportExchange[] = [];
  /** when each queued request started waiting (pool clock), beside `queue` */
  private queuedAt: number[] = [];
  private queueHead = 0;
  private readonly queueLimit: number;
  private readonly queueTimeout: number;
  private ticker: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  private closed = false;
  private onClosed: (() => void) | undefined;

  constructor(
    readonly target: PoolTarget,
    private readonly opts: Http1PoolOptions,
  ) {
    this.maxHeaderSize = opts.maxHeaderSize ?? 0;
    this.keepAliveTimeout = opts.keepAliveTimeout;
    this.headersTimeout = opts.headersTimeout;
    this.queueLimit = opts.queueLimit ?? 1024;
    this.queueTimeout = opts.queueTimeout ?? 0;
    const shortest = Math.min(
      opts.connectTimeout,
      opts.headersTimeout,
      opts.bodyTimeout,
      this.queueTimeout || Number.POSITIVE_INFINITY,
    );
    this.tickMs = Math.max(5, Math.min(1000, Math.floor(shortest / 10)));
  }

  request(ex: TransportExchange): void {
    if (refusedByHttp1(ex, this.closed)) return;
    const conn = this.idle.pop();
    if (conn !== undefined) conn.send(ex);
    else if (this.all.size < this.opts.connections) this.open().send(ex);
    else if (this.queue.length - this.queueHead >= this.queueLimit && this.compact() >= this.queueLimit)
      ex.onResponseError(new PoolBusyError('upstream connection queue full'), false);
    else {
      this.queue.push(ex);
      this.queuedAt.push(this.now);
    }
  }

  /** Sends a request again on a new connection (its reused one was closed under it). */
  retry(ex: TransportExchange): boolean {
    if (this.closed) return false;
    this.open().send(ex);
    return true;
  }

  private open(): UpstreamConnection {
    if (this.ticker === undefined) this.startTicker();
    const conn = new UpstreamConnection(this);
    this.all.add(conn);
    return conn;
  }

  /** A connection finished its request and may take the next one. */
  release(conn: UpstreamConnection): void {
    const next = this.dequeue();
    if (next !== undefined) {
      conn.send(next);
      return;
    }
    if (this.closed) conn.destroy();
    else this.idle.push(conn);
  }

  /** The oldest waiting request, if any (an array with a moving head: no shift() copies). */
  private dequeue(): TransportExchange | undefined {
    while (this.queueHead < this.queue.length) {
      const next = this.shift();
      if (!next.abandoned) return next;
    }
    return undefined;
  }

  /** Drops waiters whose client went away (only when the queue looks full); returns the length. */
  private compact(): number {
    const queue: TransportExchange[] = [];
    const at: number[] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      if (this.queue[i]!.abandoned) continue;
      queue.push(this.queue[i]!);
      at.push(this.queuedAt[i]!);
    }
    this.queue = queue;
    this.queuedAt = at;
    this.queueHead = 0;
    return queue.length;
  }

  /** Takes the queue's head (the queue must not be empty). */
  private shift(): TransportExchange {
    const next = this.queue[this.queueHead]!;
    this.queue[this.queueHead++] = undefined as unknown as TransportExchange;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queuedAt = [];
      this.queueHead = 0;
    }
    return next;
  }

  remove(conn: UpstreamConnection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    // a waiting request takes the freed slot
    const next = this.dequeue();
    if (next !== undefined) this.open().send(next);
    if (this.all.size === 0) {
      if (this.ticker !== undefined) clearInterval(this.ticker);
      this.ticker = undefined;
      this.onClosed?.();
    }
  }

  private startTicker(): void {
    this.now = performance.now();
    this.ticker = setInterval(() => this.tick(), this.tickMs);
    this.ticker.unref();
  }

  /** Fires timeouts (never early: one tick of slack) and closes connections idle too long. */
  private tick(): void {
    const now = performance.now();
    this.now = now;
    const o = this.opts;
    const slack = this.tickMs;
    const qt = this.queueTimeout;
    // the queue is FIFO: only its head can be the oldest waiter
    while (
      qt > 0 &&
      this.queueHead < this.queue.length &&
      now - this.queuedAt[this.queueHead]! > qt + slack
    ) {
      const ex = this.shift();
      if (!ex.abandoned)
        ex.onResponseError(new PoolBusyError('waited too long for an upstream connection'), false);
    }
    for (const c of this.all) {
      const age = now - c.since;
      switch (c.phase) {
        case Phase.Idle:
          if (age > c.idleLimit) c.destroy();
          break;
        case Phase.Connecting:
          if (age > o.connectTimeout + slack) c.timeout();
          break;
        case Phase.Head:
          if (c.headLimit > 0 && age > c.headLimit + slack) c.timeout();
          break;
        case Phase.Body:
          if (age > o.bodyTimeout + slack) c.timeout();
          break;
      }
    }
  }

  /** Refuses new requests, lets the started and queued ones finish, then resolves. */
  close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.idle]) c.destroy();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onClosed = resolve;
    });
  }
}
