import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '@dds/core/logger';
import { HttpSink, type HttpSinkOptions } from './http-sink.js';
import { exportRequest } from './otlp-encode.js';
import { decodeLogsResponse, encodeLogsRequest } from './otlp-wire.js';
import type { SendResult, Sink } from './sink.js';

const gzipAsync = promisify(gzip);

export interface OtlpSinkOptions {
  url: string;
  encoding: 'protobuf' | 'json';
  compression: 'gzip' | 'none';
  timeout: number;
  headers: Record<string, string>;
  tls: HttpSinkOptions['tls'];
  logger: Logger;
}

/**
 * OTLP/HTTP logs (`POST /v1/logs`). Retries follow the OTLP specification: 429, 502, 503 and 504
 * (honouring Retry-After) and network errors are retried; any other failure, 400 included, is
 * permanent for that batch (the output queue dead-letters it or holds it, never drops it
 * silently); 413 makes the queue send the batch in halves. A partial success is counted.
 */
export class OtlpSink implements Sink {
  private readonly http: HttpSink;
  private readonly json: boolean;

  constructor(private readonly o: OtlpSinkOptions) {
    this.json = o.encoding === 'json';
    this.http = new HttpSink({
      url: o.url,
      timeout: o.timeout,
      headers: o.headers,
      tls: o.tls,
      contentType: this.json ? 'application/json' : 'application/x-protobuf',
      retryable: (s) => s === 429 || s === 502 || s === 503 || s === 504,
    });
  }

  async send(body: string, _records: number): Promise<SendResult> {
    let payload: Uint8Array | string = this.json
      ? JSON.stringify(exportRequest(body, true).request)
      : encodeLogsRequest(body);
    const headers: Record<string, string> = {};
    if (this.o.compression === 'gzip') {
      payload = await gzipAsync(payload);
      headers['content-encoding'] = 'gzip';
    }
    return this.http.post(payload, headers, async (res) => {
      const raw = new Uint8Array(await res.body.arrayBuffer());
      let partial = { rejected: 0, message: '' };
      try {
        if (this.json) {
          const text = Buffer.from(raw).toString('utf8').trim();
          const doc = (text ? JSON.parse(text) : {}) as {
            partialSuccess?: { rejectedLogRecords?: string | number; errorMessage?: string };
          };
          partial = {
            rejected: Number(doc.partialSuccess?.rejectedLogRecords ?? 0),
            message: doc.partialSuccess?.errorMessage ?? '',
          };
        } else partial = decodeLogsResponse(raw);
      } catch (err) {
        // the batch was accepted (2xx); an unreadable answer only loses the partial-success count
        this.o.logger.warn({ error: (err as Error).message }, 'unreadable OTLP response body');
      }
      return partial.rejected > 0 || partial.message
        ? { ok: true, rejected: partial.rejected, message: partial.message }
        : { ok: true };
    });
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
