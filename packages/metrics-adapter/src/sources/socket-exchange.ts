import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { ScrapeError, toScrapeError } from './scrape-error.js';

export interface Endpoint {
  host: string;
  port: number;
  tls?: boolean;
}

export interface ExchangeOptions {
  /** whole exchange: connect, write, read */
  timeoutMs: number;
  /** largest reply accepted; a bigger one aborts the exchange (a misbehaving target cannot exhaust memory) */
  maxBytes: number;
  /** CA, client certificate, verification for TLS endpoints */
  tls?: ConnectionOptions;
}

/** Incremental reply decoder: returns the result once the reply is complete; throws on garbage. */
export interface ReplyDecoder<T> {
  push(chunk: Buffer): T | undefined;
}

/**
 * One request/reply round trip on a fresh connection: connect, write the (pipelined) request,
 * feed the reply to the decoder until it is complete. Every failure becomes a ScrapeError and
 * the socket is always destroyed.
 */
export function exchange<T>(
  ep: Endpoint,
  request: string | Buffer,
  decoder: ReplyDecoder<T>,
  opts: ExchangeOptions,
): Promise<T> {
  const where = `${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;
  return new Promise<T>((resolve, reject) => {
    let received = 0;
    let done = false;
    const socket: Socket = ep.tls
      ? tlsConnect({
          ...opts.tls,
          host: ep.host,
          port: ep.port,
          // SNI must not carry an IP address (RFC 6066); the certificate is still checked against it
          ...(isIP(ep.host) ? {} : { servername: ep.host }),
        })
      : netConnect({ host: ep.host, port: ep.port });
    const finish = (err: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () => finish(new ScrapeError('timeout', `${where}: no complete reply within ${opts.timeoutMs}ms`)),
      opts.timeoutMs,
    );
    socket.setNoDelay(true);
    socket.once(ep.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      received += chunk.length;
      if (received > opts.maxBytes) {
        finish(new ScrapeError('too_large', `${where}: reply larger than ${opts.maxBytes} bytes; aborted`));
        return;
      }
      try {
        const value = decoder.push(chunk);
        if (value !== undefined) finish(undefined, value);
      } catch (err) {
        finish(
          err instanceof ScrapeError
            ? err
            : new ScrapeError('protocol', `${where}: malformed reply: ${(err as Error).message}`),
        );
      }
    });
    // after a complete reply the socket is destroyed on purpose: build no error (stack capture) then
    socket.on('error', (err) => done || finish(toScrapeError(err, where)));
    socket.on(
      'close',
      () =>
        done ||
        finish(new ScrapeError('unreachable', `${where}: connection closed before the reply was complete`)),
    );
  });
}
