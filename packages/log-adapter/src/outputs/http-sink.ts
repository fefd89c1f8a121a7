import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import { retryAfterMs, type SendResult, type Sink } from './sink.js';

export interface HttpSinkOptions {
  url: string;
  timeout: number;
  headers: Record<string, string>;
  /** TLS settings for https:// (PEM contents) */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  contentType: string;
  /** which failed statuses are worth retrying as they are */
  retryable(status: number): boolean;
}

/** POSTs bodies over a keep-alive pool; the answer decides (see SendResult). */
export class HttpSink implements Sink {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(private readonly o: HttpSinkOptions) {
    const u = new URL(o.url);
    this.pool = new Pool(u.origin, {
      connections: 2,
      pipelining: 1,
      headersTimeout: o.timeout,
      bodyTimeout: o.timeout,
      connect: { timeout: o.timeout, ...o.tls },
    });
    this.path = `${u.pathname}${u.search}`;
  }

  send(body: string, _records: number): Promise<SendResult> {
    return this.post(body, {});
  }

  /** POSTs and classifies; `read` gets the body of a 2xx answer (OTLP's partial success). */
  async post(
    body: string | Uint8Array,
    extraHeaders: Record<string, string>,
    read?: (res: Dispatcher.ResponseData) => Promise<SendResult>,
  ): Promise<SendResult> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: { 'content-type': this.o.contentType, ...extraHeaders, ...this.o.headers },
        body,
      });
    } catch (err) {
      return { ok: false, retry: true, reason: (err as Error).message };
    }
    const status = res.statusCode;
    if (status >= 200 && status < 300) {
      if (read) return read(res);
      await res.body.dump();
      return { ok: true };
    }
    const text = (await res.body.text().catch(() => '')).slice(0, 300);
    return {
      ok: false,
      status,
      retry: this.o.retryable(status),
      tooLarge: status === 413,
      retryAfter: retryAfterMs(res.headers['retry-after']),
      reason: `HTTP ${status}${text ? `: ${text.replace(/\s+/g, ' ').trim()}` : ''}`,
    };
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

/** NDJSON POSTs: 408, 429 and 5xx are worth retrying (a generic endpoint's usual meaning). */
export function ndjsonSink(
  url: string,
  timeout: number,
  headers: Record<string, string>,
  tls: HttpSinkOptions['tls'],
): HttpSink {
  return new HttpSink({
    url,
    timeout,
    headers,
    tls,
    contentType: 'application/x-ndjson',
    retryable: (s) => s === 408 || s === 429 || s >= 500,
  });
}
