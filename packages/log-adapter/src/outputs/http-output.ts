import type { Logger } from '@dds/core/logger';
import { Pool } from 'undici';
import type { Output } from './output.js';

export interface HttpOutputOptions {
  url: string;
  /** most bytes per request */
  batchBytes: number;
  /** longest wait before a partly filled batch is sent */
  flushInterval: number;
  /** bytes queued before readers pause (or batches are dropped, with overflow 'drop') */
  bufferBytes: number;
  overflow: 'block' | 'drop';
  /** attempts per batch before it is dropped (0 = retry forever) */
  retryLimit: number;
  retryBase: number;
  retryMax: number;
  timeout: number;
  headers: Record<string, string>;
  logger: Logger;
  onSent(records: number, bytes: number): void;
  onDropped(records: number, reason: 'retries_exhausted' | 'rejected' | 'buffer_full'): void;
  onRetry(): void;
}

interface Item {
  data: string;
  records: number;
  done: () => void;
}

/**
 * POSTs NDJSON batches over a keep-alive pool. Retries 5xx, 408, 429 and network errors with
 * capped exponential backoff and jitter; other 4xx answers mean the batch will never be
 * accepted, so it is dropped at once. The queue is bounded: readers wait for room (files and
 * stdin are the buffer), or with overflow 'drop' new batches are dropped and counted.
 */
export class HttpOutput implements Output {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly queue: Item[] = [];
  private queued = 0;
  private sending = false;
  private timer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  private closing = false;

  constructor(private readonly o: HttpOutputOptions) {
    const u = new URL(o.url);
    this.pool = new Pool(u.origin, {
      connections: 2,
      pipelining: 1,
      headersTimeout: o.timeout,
      bodyTimeout: o.timeout,
    });
    this.path = `${u.pathname}${u.search}`;
  }

  write(batch: string, records: number, done: () => void): void {
    if (this.o.overflow === 'drop' && this.queued >= this.o.bufferBytes) {
      this.o.onDropped(records, 'buffer_full');
      done();
      return;
    }
    if (batch.length > this.o.batchBytes) {
      this.split(batch, done);
      return;
    }
    this.enqueue({ data: batch, records, done });
  }

  /** A batch bigger than --http-batch-size goes out in pieces cut at line ends. */
  private split(batch: string, done: () => void): void {
    const pieces: string[] = [];
    let start = 0;
    while (start < batch.length) {
      let end = batch.lastIndexOf('\n', start + this.o.batchBytes - 1);
      if (end < start) end = batch.indexOf('\n', start); // one line longer than a batch
      if (end < 0) end = batch.length - 1;
      pieces.push(batch.slice(start, end + 1));
      start = end + 1;
    }
    let left = pieces.length;
    for (const piece of pieces) {
      let n = 0;
      for (let i = piece.indexOf('\n'); i >= 0; i = piece.indexOf('\n', i + 1)) n++;
      this.enqueue({ data: piece, records: n, done: () => --left === 0 && done() });
    }
  }

  private enqueue(item: Item): void {
    const batch = item.data;
    this.queue.push(item);
    this.queued += batch.length;
    if (this.queued >= this.o.batchBytes) void this.pump();
    else this.timer ??= setTimeout(() => void this.pump(), this.o.flushInterval);
  }

  async room(): Promise<void> {
    if (this.o.overflow === 'drop' || this.queued < this.o.bufferBytes) return;
    await new Promise<void>((r) => this.waiters.push(r));
  }

  private async pump(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length) {
        const items: Item[] = [];
        let size = 0;
        while (
          this.queue.length &&
          (items.length === 0 || size + this.queue[0]!.data.length <= this.o.batchBytes)
        ) {
          const it = this.queue.shift()!;
          items.push(it);
          size += it.data.length;
        }
        await this.deliver(items, size);
        this.queued -= size;
        for (const it of items) it.done();
        if (this.queued < this.o.bufferBytes && this.waiters.length) {
          const w = this.waiters;
          this.waiters = [];
          for (const r of w) r();
        }
        if (!this.closing && this.queue.length && this.queued < this.o.batchBytes) break;
      }
    } finally {
      this.sending = false;
    }
    if (this.queue.length) this.timer ??= setTimeout(() => void this.pump(), this.o.flushInterval);
  }

  /** Sends one batch until accepted, rejected or out of attempts. */
  private async deliver(items: Item[], size: number): Promise<void> {
    const records = items.reduce((n, it) => n + it.records, 0);
    const body = items.length === 1 ? items[0]!.data : items.map((it) => it.data).join('');
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let error = '';
      try {
        const res = await this.pool.request({
          method: 'POST',
          path: this.path,
          headers: { 'content-type': 'application/x-ndjson', ...this.o.headers },
          body,
        });
        status = res.statusCode;
        await res.body.dump();
      } catch (err) {
        error = (err as Error).message;
      }
      if (status >= 200 && status < 300) {
        this.o.onSent(records, size);
        return;
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        this.o.logger.error({ status, records }, 'log endpoint rejected a batch; dropped');
        this.o.onDropped(records, 'rejected');
        return;
      }
      if (this.o.retryLimit > 0 && attempt >= this.o.retryLimit) {
        this.o.logger.error(
          { status, error, records, attempts: attempt },
          'log endpoint failing; batch dropped',
        );
        this.o.onDropped(records, 'retries_exhausted');
        return;
      }
      this.o.onRetry();
      const backoff = Math.min(this.o.retryMax, this.o.retryBase * 2 ** (attempt - 1));
      this.o.logger.warn(
        { status, error, attempt, retryInMs: Math.round(backoff) },
        'log endpoint failed; retrying',
      );
      await new Promise((r) => setTimeout(r, backoff / 2 + Math.random() * (backoff / 2)));
    }
  }

  async close(deadline: number): Promise<void> {
    this.closing = true;
    const flushAll = (async () => {
      while (this.queue.length || this.sending) {
        await this.pump();
        if (this.sending) await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await Promise.race([flushAll, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    // what is still queued was never acknowledged: file positions stay before it, nothing is lost
    if (this.queue.length || this.sending) await this.pool.destroy().catch(() => {});
    else await this.pool.close().catch(() => {});
  }
}
