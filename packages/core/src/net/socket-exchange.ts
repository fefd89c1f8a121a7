import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { isTlsErrorCode, UNREACHABLE_CODES } from './socket-errors.js';

/** Why an exchange failed; a fixed set, so callers can map it onto their own reasons. */
export type ExchangeFailure = 'unreachable' | 'timeout' | 'tls' | 'protocol' | 'too_large' | 'error';

export class ExchangeError extends Error {
  constructor(
    readonly reason: ExchangeFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExchangeError';
  }
}

/** A socket error as an ExchangeError with a readable message. */
export function socketFailure(err: unknown, where: string): ExchangeError {
  if (err instanceof ExchangeError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  if (UNREACHABLE_CODES.has(code))
    return new ExchangeError('unreachable', `${where}: ${code} ${e.message}`.trim(), { cause: err });
  if (isTlsErrorCode(code)) return new ExchangeError('tls', `${where}: TLS: ${e.message}`, { cause: err });
  if (code === 'ETIMEDOUT') return new ExchangeError('timeout', `${where}: timed out`, { cause: err });
  return new ExchangeError('error', `${where}: ${e?.message ?? String(err)}`, { cause: err });
}

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
  /** gives up (reason timeout) when it aborts */
  signal?: AbortSignal;
}

/** Incremental reply decoder: returns the result once the reply is complete; throws on garbage. */
export interface ReplyDecoder<T> {
  push(chunk: Buffer): T | undefined;
}

/**
 * One request/reply round trip on a fresh connection, for the small text protocols the adapters
 * speak (memcached): connect, write the (pipelined) request, feed the reply to the decoder until
 * it is complete. The reply is bounded (a huge or endless one fails instead of filling memory),
 * every failure becomes an ExchangeError and the socket is always destroyed.
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
    const onAbort = () => finish(new ExchangeError('timeout', `${where}: timed out`));
    const finish = (err: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () => finish(new ExchangeError('timeout', `${where}: no complete reply within ${opts.timeoutMs}ms`)),
      opts.timeoutMs,
    );
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.setNoDelay(true);
    socket.once(ep.tls ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      received += chunk.length;
      if (received > opts.maxBytes) {
        finish(new ExchangeError('too_large', `${where}: reply larger than ${opts.maxBytes} bytes; aborted`));
        return;
      }
      try {
        const value = decoder.push(chunk);
        if (value !== undefined) finish(undefined, value);
      } catch (err) {
        finish(
          err instanceof ExchangeError
            ? err
            : new ExchangeError('protocol', `${where}: malformed reply: ${(err as Error).message}`, {
                cause: err,
              }),
        );
      }
    });
    // after a complete reply the socket is destroyed on purpose: build no error (stack capture) then
    socket.on('error', (err) => done || finish(socketFailure(err, where)));
    socket.on(
      'close',
      () =>
        done ||
        finish(new ExchangeError('unreachable', `${where}: connection closed before the reply was complete`)),
    );
  });
}
