import type { Dispatcher } from 'undici';
import type { BodySource } from '../proxy-contract.js';
import { BodyFraming, PoolBusyError, type Transport, type TransportExchange } from '../transport.js';
import type { Http1PoolOptions, PoolTarget } from './pool.js';
import { refusedByHttp1 } from './request-head.js';

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The HTTP/1.1 Transport on undici's Pool, for a process where the llhttp fast path is not live
 * (core's pool parses responses with Node's private llhttp binding): the same exchange contract
 * through undici's public dispatch API and its v2 handler, whose names the Transport took. undici
 * (a dependency of core, about 9 MB) is loaded on first use only. Requests beyond the
 * connections wait here, as in core's pool: in a bounded queue with a wait timeout (503), and
 * a waiting request's body is not read (the front end holds it at its high-water mark).
 */
export class UndiciTransport implements Transport {
  private pool: Dispatcher | undefined;
  private readonly loading: Promise<void>;
  /** requests waiting for the pool to load or for a connection, with when they started waiting */
  private waiting: { ex: TransportExchange; at: number }[] = [];
  /** requests handed to undici and not ended yet */
  private inFlight = 0;
  private closed = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    target: PoolTarget,
    private readonly opts: Http1PoolOptions,
  ) {
    this.loading = import('undici').then((undici) => {
      if (this.closed) return;
      const common = {
        connections: opts.connections,
        pipelining: 1,
        headersTimeout: opts.headersTimeout,
        bodyTimeout: opts.bodyTimeout,
        keepAliveTimeout: opts.keepAliveTimeout,
        maxHeaderSize: opts.maxHeaderSize || undefined,
      };
      if ('path' in target)
        this.pool = new undici.Pool('http://localhost', {
          ...common,
          socketPath: target.path,
          connect: { timeout: opts.connectTimeout },
        });
      else {
        const tls = target.tls?.();
        const host = target.host.includes(':') ? `[${target.host}]` : target.host;
        this.pool = new undici.Pool(`${tls ? 'https' : 'http'}://${host}:${target.port}`, {
          ...common,
          connect: { timeout: opts.connectTimeout, ...(tls ?? {}) } as never,
        });
      }
      this.next();
    });
  }

  request(ex: TransportExchange): void {
    if (refusedByHttp1(ex, this.closed)) return;
    if (this.pool !== undefined && this.inFlight < this.opts.connections && this.waiting.length === 0) {
      this.dispatch(ex);
      return;
    }
    if (this.waiting.length >= (this.opts.queueLimit ?? 1024)) {
      this.waiting = this.waiting.filter((w) => !w.ex.abandoned);
      if (this.waiting.length >= (this.opts.queueLimit ?? 1024)) {
        ex.onResponseError(new PoolBusyError('upstream connection queue full'), false);
        return;
      }
    }
    this.waiting.push({ ex, at: performance.now() });
    const qt = this.opts.queueTimeout ?? 0;
    if (qt > 0)
      this.sweeper ??= setInterval(() => this.expire(qt), Math.max(5, Math.min(1000, qt / 10))).unref();
  }

  /** Hands waiting requests to undici while connections are free. */
  private next(): void {
    while (this.pool !== undefined && this.inFlight < this.opts.connections && this.waiting.length > 0) {
      const { ex } = this.waiting.shift()!;
      if (!ex.abandoned) this.dispatch(ex);
    }
  }

  /** Requests that waited longer than the queue timeout: 503. */
  private expire(qt: number): void {
    const now = performance.now();
    while (this.waiting.length > 0 && (this.waiting[0]!.ex.abandoned || now - this.waiting[0]!.at > qt)) {
      const { ex } = this.waiting.shift()!;
      if (!ex.abandoned)
        ex.onResponseError(new PoolBusyError('waited too long for an upstream connection'), false);
    }
    if (this.waiting.length === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private dispatch(ex: TransportExchange): void {
    const headers: string[] = [];
    if (ex.defaultHost !== undefined) headers.push('host', ex.defaultHost);
    for (const h of ex.headers) headers.push(h);
    if (ex.extra) for (const h of ex.extra) headers.push(h);
    if (ex.framing === BodyFraming.Length && ex.length !== undefined)
      headers.push('content-length', ex.length);
    this.inFlight++;
    this.pool!.dispatch(
      {
        method: ex.method as Dispatcher.HttpMethod,
        path: ex.path,
        headers,
        body: ex.body === null || ex.framing === BodyFraming.None ? null : (bodyChunks(ex.body) as never),
        headersTimeout: ex.headersTimeout ?? this.opts.headersTimeout,
        upgrade: null,
      },
      new Handler(ex, () => {
        this.inFlight--;
        this.next();
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const { ex } of this.waiting.splice(0))
      if (!ex.abandoned) ex.onResponseError(new Error('upstream pool closed'), false);
    await this.loading;
    await this.pool?.close();
  }
}

/** undici's v2 handler, passing one response on to the exchange. */
class Handler implements Dispatcher.DispatchHandler {
  private done = false;

  constructor(
    private readonly ex: TransportExchange,
    private readonly ended: () => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.ex.abandoned) {
      controller.abort(new Error('client closed'));
      return;
    }
    this.ex.onRequestStart({
      resume: () => controller.resume(),
      abort: () => controller.abort(new Error('client closed')),
    });
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (status < 200) return; // interim responses are not forwarded
    this.ex.onResponseStart(status, flat(controller.rawHeaders, headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.ex.onResponseData(chunk)) controller.pause();
    this.ex.onReadDone?.();
  }

  onResponseEnd(): void {
    this.finish();
    this.ex.onResponseEnd();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    this.finish();
    this.ex.onResponseError(err, TIMEOUTS.has(err.code ?? ''));
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.ended();
  }
}

/** Headers as the proxy takes them: flat [name, value, ...], in their original case when undici kept it. */
function flat(raw: unknown, headers: Record<string, string | string[] | undefined>): string[] {
  if (Array.isArray(raw))
    return raw.map((v: Buffer | string) => (typeof v === 'string' ? v : v.toString('latin1')));
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return out;
}

/**
 * A request body (the front end's request) as the async iterable undici reads, with
 * back-pressure: the source pauses while a chunk waits for undici to take it.
 */
async function* bodyChunks(body: BodySource): AsyncGenerator<Buffer> {
  const held: Buffer[] = [];
  let ended = false;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  body.on('data', (chunk: Buffer) => {
    held.push(chunk);
    body.pause();
    poke();
  });
  body.on('end', () => {
    ended = true;
    poke();
  });
  body.on('close', () => {
    if (!ended) failed = new Error('request body cut short');
    poke();
  });
  body.resume();
  for (;;) {
    const chunk = held.shift();
    if (chunk !== undefined) {
      yield chunk;
      continue;
    }
    if (failed) throw failed;
    if (ended) return;
    body.resume();
    await new Promise<void>((r) => {
      wake = r;
    });
  }
}
