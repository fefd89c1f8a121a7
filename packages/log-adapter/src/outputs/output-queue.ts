import type { Logger } from '@dds/core/logger';
import type { DeadLetter } from './dead-letter.js';
import type { Output } from './output.js';
import type { SendResult, Sink } from './sink.js';
import type { Spool } from './spool.js';
import type { OutputPolicy } from './targets.js';

export interface OutputStats {
  sent(records: number): void;
  dropped(records: number, reason: 'queue_full' | 'rejected' | 'retries_exhausted' | 'output_removed'): void;
  deadLettered(records: number, reason: 'rejected' | 'retries_exhausted'): void;
  /** records the backend refused inside an accepted batch (OTLP partial success) */
  rejected(records: number): void;
  retried(): void;
  /** 1 while a batch is held because it can be neither delivered nor dead-lettered */
  blocked(on: boolean): void;
}

export interface OutputQueueOptions {
  name: string;
  policy: OutputPolicy;
  sink: Sink;
  /** most bytes per send */
  batchBytes: number;
  /** longest wait before a partly filled batch is sent (0: send as soon as the sink is idle) */
  flushInterval: number;
  /** bytes queued in memory before the inputs wait (block) or batches are dropped (drop) */
  bufferBytes: number;
  /** attempts before a failing batch is given up on (dead letter / drop); 0 = never */
  retryLimit: number;
  retryBase: number;
  retryMax: number;
  spool: Spool | undefined;
  deadLetter: DeadLetter | undefined;
  stats: OutputStats;
  logger: Logger;
}

export interface Item {
  data: string;
  records: number;
  done: () => void;
}

const countLines = (s: string): number => {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * One output's queue: batches records, delivers them through its sink one batch at a time (so
 * acknowledgements come in order), retries with capped exponential backoff and jitter (or the
 * backend's Retry-After), halves a batch the backend finds too large, and never loses one
 * silently. What happens when a batch cannot be delivered depends on the policy:
 * - `block` (default): the batch is acknowledged only once delivered; a full queue pauses the
 *   inputs, so the log files are the buffer. A batch refused for good goes to the dead-letter
 *   file, or without one is held and retried with a metric and a log line.
 * - `spool`: batches are acknowledged once fsynced to a bounded on-disk spool and delivered from
 *   there; a full spool pauses the inputs.
 * - `drop`: a full queue drops new batches, and refused batches are dropped (or dead-lettered);
 *   both are counted. Such an output never holds back the inputs or their positions.
 */
export class OutputQueue implements Output {
  private readonly queue: Item[] = [];
  private queued = 0;
  private pumping = false;
  private timer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  private closing = false;
  /** past the drain deadline: stop retrying, leave the rest unacknowledged */
  private aborted = false;
  private wakeBackoff: (() => void) | undefined;
  private spooling: Promise<void> = Promise.resolve();
  private spoolPending = 0;

  constructor(readonly o: OutputQueueOptions) {}

  get name(): string {
    return this.o.name;
  }

  /** Does this output hold back the inputs' positions until it has the batch for good? */
  get blocking(): boolean {
    return this.o.policy !== 'drop';
  }

  /** Starts delivering what a spool kept from before a restart. */
  start(): void {
    if (this.o.spool && this.o.spool.size() > 0) void this.pump();
  }

  write(batch: string, records: number, done: () => void): void {
    if (this.o.policy === 'drop' && this.queued >= this.o.bufferBytes) {
      this.o.stats.dropped(records, 'queue_full');
      done();
      return;
    }
    const spool = this.o.spool;
    if (spool) {
      this.spoolPending += batch.length;
      this.spooling = spool.append(batch).then(
        () => {
          this.spoolPending -= batch.length;
          done();
          this.schedule(spool.size());
        },
        (err: Error) => {
          // cannot spool (disk full, permissions): hold it in memory and acknowledge on delivery
          this.spoolPending -= batch.length;
          this.o.logger.error(
            { output: this.o.name, error: err.message },
            'cannot spool a batch; holding it in memory',
          );
          this.enqueue({ data: batch, records, done });
        },
      );
      return;
    }
    this.enqueue({ data: batch, records, done });
  }

  private enqueue(item: Item): void {
    this.queue.push(item);
    this.queued += item.data.length;
    this.schedule(this.queued);
  }

  private schedule(pending: number): void {
    if (this.pumping) return;
    if (pending >= this.o.batchBytes || this.o.flushInterval === 0) void this.pump();
    else this.timer ??= setTimeout(() => void this.pump(), this.o.flushInterval);
  }

  room(): Promise<void> {
    if (this.o.policy === 'drop' || !this.full()) return Promise.resolve();
    return new Promise<void>((r) => this.waiters.push(r));
  }

  private full(): boolean {
    if (this.o.spool) return this.o.spool.size() + this.spoolPending >= this.o.spool.maxBytes;
    return this.queued >= this.o.bufferBytes;
  }

  private wake(): void {
    if (this.waiters.length && !this.full()) {
      const w = this.waiters;
      this.waiters = [];
      for (const r of w) r();
    }
  }

  /** Bytes waiting in memory and in the spool. */
  pending(): number {
    return this.queued + (this.o.spool?.size() ?? 0);
  }

  private async pump(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.aborted) {
        if (this.queue.length) {
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
          const body = items.length === 1 ? items[0]!.data : items.map((it) => it.data).join('');
          const records = items.reduce((n, it) => n + it.records, 0);
          const delivered = await this.deliver(body, records);
          if (!delivered) {
            this.queue.unshift(...items); // aborted at the deadline: never acknowledged
            break;
          }
          this.queued -= size;
          for (const it of items) it.done();
          this.wake();
        } else if (this.o.spool && this.o.spool.size() > 0) {
          const body = await this.o.spool.peek(this.o.batchBytes);
          if (body === '') break;
          if (!(await this.deliver(body, countLines(body)))) break;
          await this.o.spool.commit();
          this.wake();
        } else break;
        const pending = this.queued + (this.o.spool?.size() ?? 0);
        if (!this.closing && pending > 0 && pending < this.o.batchBytes && this.o.flushInterval > 0) break;
      }
    } finally {
      this.pumping = false;
    }
    if (!this.aborted && (this.queue.length || (this.o.spool?.size() ?? 0) > 0)) {
      this.timer ??= setTimeout(() => void this.pump(), this.o.flushInterval);
    }
  }

  /**
   * Sends one batch until it is delivered, dead-lettered or (policy drop) dropped; false when
   * aborted at the drain deadline.
   */
  private async deliver(body: string, records: number): Promise<boolean> {
    let blocked = false;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.aborted) return false;
        let r: SendResult;
        try {
          r = await this.o.sink.send(body, records);
        } catch (err) {
          r = { ok: false, retry: true, reason: (err as Error).message };
        }
        if (r.ok) {
          this.o.stats.sent(records - (r.rejected ?? 0));
          if (r.rejected || r.message) {
            this.o.stats.rejected(r.rejected ?? 0);
            this.o.logger.warn(
              { output: this.o.name, rejected: r.rejected ?? 0, records, message: r.message },
              'backend accepted a batch in part (partial success); rejected records are not retried',
            );
          }
          return true;
        }
        if (r.tooLarge && records > 1) {
          const mid = nthLineEnd(body, Math.floor(records / 2));
          this.o.logger.warn(
            { output: this.o.name, records, bytes: body.length },
            'batch too large for the backend; sending it in halves',
          );
          const first = await this.deliver(body.slice(0, mid), countLines(body.slice(0, mid)));
          return first && (await this.deliver(body.slice(mid), countLines(body.slice(mid))));
        }
        const exhausted = this.o.retryLimit > 0 && attempt >= this.o.retryLimit;
        if (!r.retry || exhausted) {
          const reason = r.retry ? 'retries_exhausted' : 'rejected';
          if (await this.giveUp(body, records, reason, r)) return true;
          if (!blocked) {
            blocked = true;
            this.o.stats.blocked(true);
          }
          this.o.logger.error(
            { output: this.o.name, status: r.status, error: r.reason, records, attempts: attempt },
            'output cannot deliver a batch and has no dead-letter file: holding it and retrying (inputs wait)',
          );
        } else {
          this.o.logger.warn(
            { output: this.o.name, status: r.status, error: r.reason, attempt },
            'output failed; retrying',
          );
        }
        this.o.stats.retried();
        const backoff = Math.min(this.o.retryMax, this.o.retryBase * 2 ** Math.min(attempt - 1, 30));
        let wait = backoff / 2 + Math.random() * (backoff / 2);
        if (r.retryAfter !== undefined) wait = Math.min(Math.max(wait, r.retryAfter), 5 * 60_000);
        await new Promise<void>((res) => {
          const t = setTimeout(res, wait);
          this.wakeBackoff = () => {
            clearTimeout(t);
            res();
          };
        });
        this.wakeBackoff = undefined;
      }
    } finally {
      if (blocked) this.o.stats.blocked(false);
    }
  }

  /** Dead-letters (or, policy drop, drops) a batch; false when it must be held instead. */
  private async giveUp(
    body: string,
    records: number,
    reason: 'rejected' | 'retries_exhausted',
    r: Extract<SendResult, { ok: false }>,
  ): Promise<boolean> {
    const dl = this.o.deadLetter;
    if (dl) {
      const written = await dl.write(body).catch((err: Error) => {
        this.o.logger.error({ output: this.o.name, error: err.message }, 'cannot write the dead-letter file');
        return false;
      });
      if (written) {
        this.o.stats.deadLettered(records, reason);
        this.o.logger.error(
          { output: this.o.name, status: r.status, error: r.reason, records, file: dl.path, reason },
          'batch written to the dead-letter file',
        );
        return true;
      }
    }
    if (this.o.policy === 'drop') {
      this.o.stats.dropped(records, reason);
      this.o.logger.error(
        { output: this.o.name, status: r.status, error: r.reason, records, reason },
        'batch dropped',
      );
      return true;
    }
    return false;
  }

  /**
   * Stops this output for a successor with new settings: the send in flight finishes (so nothing
   * is sent twice), and the batches still queued are returned for the successor to adopt.
   */
  async stop(): Promise<Item[]> {
    this.aborted = true;
    this.wakeBackoff?.();
    if (this.timer) clearTimeout(this.timer);
    while (this.pumping) await new Promise((r) => setTimeout(r, 5));
    await this.spooling;
    const items = this.queue.splice(0);
    this.queued = 0;
    await this.o.sink.close();
    await this.o.spool?.close();
    await this.o.deadLetter?.close();
    for (const w of this.waiters) w();
    this.waiters = [];
    return items;
  }

  /** Takes over a predecessor's queued batches, ahead of anything newer. */
  adopt(items: Item[]): void {
    if (items.length === 0) return;
    this.queue.unshift(...items);
    for (const it of items) this.queued += it.data.length;
    this.schedule(this.queued);
  }

  /** An output removed by a reload: delivers until the deadline, then lets the rest go (counted). */
  async retire(deadline: number): Promise<void> {
    await this.close(deadline);
    const left = this.queue.splice(0);
    const records = left.reduce((n, it) => n + it.records, 0);
    if (records > 0) {
      this.o.stats.dropped(records, 'output_removed');
      this.o.logger.error(
        { output: this.o.name, records },
        'output removed by a reload before it delivered these records',
      );
    }
    for (const it of left) it.done();
  }

  /** Delivers what is queued until the deadline; the rest stays unacknowledged (positions hold). */
  async close(deadline: number): Promise<void> {
    this.closing = true;
    await this.spooling;
    const flushAll = (async () => {
      while (!this.aborted && (this.queue.length || this.pumping || (this.o.spool?.size() ?? 0) > 0)) {
        if (this.pumping) await new Promise((r) => setTimeout(r, 10));
        else await this.pump();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      flushAll,
      new Promise<void>((r) => {
        timer = setTimeout(r, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    this.aborted = true;
    this.wakeBackoff?.();
    if (this.timer) clearTimeout(this.timer);
    await this.o.sink.close();
    await flushAll;
    await this.o.spool?.close();
    await this.o.deadLetter?.close();
    for (const w of this.waiters) w();
    this.waiters = [];
  }
}

/** Offset just after the n-th line end of s (n >= 1). */
function nthLineEnd(s: string, n: number): number {
  let i = -1;
  for (let k = 0; k < n; k++) i = s.indexOf('\n', i + 1);
  return i + 1;
}
