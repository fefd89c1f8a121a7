import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { PoolBusyError, type Transport, type TransportExchange } from '../transport.js';
import { http1Transport } from '../upstream-pool/http1-transport.js';
import type { Http1PoolOptions } from '../upstream-pool/pool.js';
import { H2Transport } from './h2-transport.js';

export interface AlpnTransportOptions extends Http1PoolOptions {
  host: string;
  port: number;
  /** the TLS client (certificate, CA, server name and identity check), asked for per connection */
  tls: () => ConnectionOptions;
}

/**
 * An https upstream: the first connection offers h2 and http/1.1 by ALPN and the upstream's
 * choice decides the transport, HTTP/2 (H2Transport) or core's keep-alive HTTP/1.1 pool over
 * TLS. Requests that arrive meanwhile wait (bounded like the pool's queue). A failed first
 * connection fails what waited and the next request tries again; an upstream that later stops
 * offering h2 (a new session negotiates otherwise) makes the next request ask again.
 */
export class AlpnTransport implements Transport {
  private current: Transport | undefined;
  private waiting: TransportExchange[] = [];
  private probing = false;
  private closed = false;
  private readonly retired: Transport[] = [];

  constructor(private readonly opts: AlpnTransportOptions) {}

  /** h2 or http/1.1 once decided (for logs and tests). */
  protocol: 'h2' | 'http/1.1' | undefined = undefined;

  request(ex: TransportExchange): void {
    if (this.closed) {
      ex.onResponseError(new Error('upstream transport closed'), false);
      return;
    }
    if (this.current !== undefined) {
      this.current.request(ex);
      return;
    }
    if (this.waiting.length >= (this.opts.queueLimit ?? 1024)) {
      ex.onResponseError(new PoolBusyError('upstream connection queue full'), false);
      return;
    }
    this.waiting.push(ex);
    if (!this.probing) this.probe();
  }

  private probe(): void {
    this.probing = true;
    const o = this.opts;
    const sock: TLSSocket = tlsConnect({
      host: o.host,
      port: o.port,
      ALPNProtocols: ['h2', 'http/1.1'],
      ...o.tls(),
    });
    sock.setNoDelay(true);
    const timer = setTimeout(
      () => sock.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' })),
      o.connectTimeout,
    );
    const fail = (err: Error & { code?: string }) => {
      clearTimeout(timer);
      this.probing = false;
      const waiting = this.waiting;
      this.waiting = [];
      for (const ex of waiting) if (!ex.abandoned) ex.onResponseError(err, err.code === 'ETIMEDOUT');
    };
    sock.once('error', fail);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.removeListener('error', fail);
      this.probing = false;
      if (this.closed) {
        sock.destroy();
        return;
      }
      if (sock.alpnProtocol === 'h2') {
        this.protocol = 'h2';
        this.current = new H2Transport(
          {
            host: o.host,
            port: o.port,
            tls: o.tls,
            connections: o.connections,
            connectTimeout: o.connectTimeout,
            headersTimeout: o.headersTimeout,
            bodyTimeout: o.bodyTimeout,
            onAlpnMismatch: () => this.reconsider(),
          },
          sock,
        );
      } else {
        // http/1.1 (or no ALPN: an HTTP/1.1-only server); the pool opens its own connections
        sock.destroy();
        this.protocol = 'http/1.1';
        this.current = http1Transport(
          { host: o.host, port: o.port, tls: () => ({ ...o.tls(), ALPNProtocols: ['http/1.1'] }) },
          o,
        );
      }
      const waiting = this.waiting;
      this.waiting = [];
      for (const ex of waiting) if (!ex.abandoned) this.current.request(ex);
    });
  }

  /** The upstream no longer speaks what it chose: the next request asks again. */
  private reconsider(): void {
    const old = this.current;
    if (old === undefined) return;
    this.current = undefined;
    this.protocol = undefined;
    this.retired.push(old);
    void old.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const ex of this.waiting.splice(0))
      if (!ex.abandoned) ex.onResponseError(new Error('upstream transport closed'), false);
    await Promise.all([this.current?.close(), ...this.retired.map((t) => t.close())]);
  }
}
