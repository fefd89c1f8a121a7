import { close, closeSync, fstat, fstatSync, open, openSync, stat, write, writeSync } from 'node:fs';

/** Where lines go: the process's stdout, or a file opened for appending. */
export type LineTarget = { kind: 'stdout' } | { kind: 'file'; path: string };

export type DropReason = 'buffer_full' | 'write_error';

export interface LineWriterOptions {
  /** bytes (UTF-16 units) held while writes are slow; lines beyond are dropped and counted */
  maxBuffered: number;
  /** lines have reached the kernel */
  onWritten?(lines: number): void;
  onDropped?(lines: number, reason: DropReason): void;
  /** a write or reopen failed (reported at most once per second) */
  onError?(err: NodeJS.ErrnoException): void;
}

/** POSIX guarantees that writes of up to this many bytes to a pipe are not interleaved. */
const PIPE_BUF = 4096;
const FILE_WRITE = 256 * 1024;
const REOPEN_CHECK_MS = 1000;

/**
 * Writes whole lines without ever blocking the caller: write() only appends to a bounded
 * in-memory queue, and one asynchronous write at a time (on libuv's thread pool) takes out
 * everything queued so far, so lines are batched by how fast the destination takes them. When
 * the destination stalls and the queue is full, new lines are dropped and counted, never
 * waited for. Writes to a pipe (a container's stdout) are cut at line ends into PIPE_BUF-sized
 * pieces, so they never interleave with other writers of the same pipe (the process's own
 * logger). A file is opened for appending (several workers may share it) and reopened when it
 * is renamed or removed (logrotate without copytruncate).
 */
export class LineWriter {
  private queue: string[] = [];
  private head = 0;
  private queued = 0;
  private writing = false;
  private scheduled = false;
  private closed = false;
  private fd: number;
  private readonly maxWrite: number;
  private ino = 0;
  private reopenWanted = false;
  private readonly checker: NodeJS.Timeout | undefined;
  private lastError = 0;
  private idle: (() => void) | undefined;

  constructor(
    private readonly target: LineTarget,
    private readonly opts: LineWriterOptions,
  ) {
    if (target.kind === 'stdout') {
      this.fd = 1;
      let pipe = true;
      try {
        const st = fstatSync(1);
        pipe = st.isFIFO() || st.isSocket();
      } catch {
        // unknown: keep the pipe-safe size
      }
      this.maxWrite = pipe ? PIPE_BUF : FILE_WRITE;
    } else {
      // throws (ENOENT of the directory, EACCES) at start: the caller reports it as a config error
      this.fd = openSync(target.path, 'a', 0o640);
      this.ino = fstatSync(this.fd).ino;
      this.maxWrite = FILE_WRITE;
      this.checker = setInterval(() => this.checkRotation(), REOPEN_CHECK_MS);
      this.checker.unref();
    }
  }

  /** Queues one line (ending in \n); false when it was dropped because the queue is full. */
  write(line: string): boolean {
    if (this.closed || this.queued + line.length > this.opts.maxBuffered) {
      this.opts.onDropped?.(1, 'buffer_full');
      return false;
    }
    this.queue.push(line);
    this.queued += line.length;
    if (!this.writing && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
    return true;
  }

  /** Lines waiting for the destination (for tests and the drain). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Writes what is queued, then closes the file; lines written later are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.writing) await new Promise<void>((r) => (this.idle = r));
    this.closed = true;
    if (this.checker) clearInterval(this.checker);
    // the rest in one go: the process is stopping, a short synchronous write is what it needs
    while (this.pending > 0) {
      const [text, lines] = this.take();
      try {
        writeFully(this.fd, Buffer.from(text));
        this.opts.onWritten?.(lines);
      } catch (err) {
        this.opts.onDropped?.(lines + this.pending, 'write_error');
        this.report(err as NodeJS.ErrnoException);
        break;
      }
    }
    this.queue = [];
    this.head = 0;
    this.queued = 0;
    if (this.target.kind === 'file') closeSync(this.fd);
  }

  /** The next batch: whole lines up to maxWrite bytes (one line may exceed it alone). */
  private take(): [string, number] {
    let text = '';
    let n = 0;
    const q = this.queue;
    while (this.head < q.length) {
      const line = q[this.head]!;
      if (n > 0 && text.length + line.length > this.maxWrite) break;
      text += line;
      q[this.head++] = '';
      n++;
    }
    this.queued -= text.length;
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    }
    return [text, n];
  }

  private pump(): void {
    if (this.writing || this.closed) return;
    if (this.reopenWanted) {
      this.reopen();
      return;
    }
    if (this.pending === 0) {
      const idle = this.idle;
      this.idle = undefined;
      idle?.();
      return;
    }
    this.writing = true;
    const [text, lines] = this.take();
    this.send(Buffer.from(text), lines);
  }

  private send(buf: Buffer, lines: number): void {
    write(this.fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          // a non-blocking descriptor that is full: try again shortly, lines kept
          setTimeout(() => this.send(buf, lines), 5).unref();
          return;
        }
        this.writing = false;
        this.opts.onDropped?.(lines, 'write_error');
        this.report(err);
        this.pump();
        return;
      }
      if (n < buf.length) {
        this.send(buf.subarray(n), lines);
        return;
      }
      this.writing = false;
      this.opts.onWritten?.(lines);
      this.pump();
    });
  }

  private checkRotation(): void {
    if (this.target.kind !== 'file' || this.closed) return;
    stat(this.target.path, (err, st) => {
      if ((err && err.code === 'ENOENT') || (st && st.ino !== this.ino)) {
        this.reopenWanted = true;
        if (!this.writing && !this.scheduled) this.pump();
      }
    });
  }

  private reopen(): void {
    if (this.target.kind !== 'file') return;
    this.reopenWanted = false;
    this.writing = true;
    open(this.target.path, 'a', 0o640, (err, fd) => {
      if (err) {
        this.writing = false;
        this.report(err);
        this.pump(); // keep writing to the old file
        return;
      }
      const old = this.fd;
      this.fd = fd;
      fstat(fd, (_e, st) => {
        if (st) this.ino = st.ino;
        close(old, () => {
          this.writing = false;
          this.pump();
        });
      });
    });
  }

  private report(err: NodeJS.ErrnoException): void {
    const now = Date.now();
    if (now - this.lastError < 1000) return;
    this.lastError = now;
    this.opts.onError?.(err);
  }
}

/** Synchronous write of everything (the final flush); a destination full for 2 s gives up. */
function writeFully(fd: number, buf: Buffer): void {
  let off = 0;
  const giveUp = Date.now() + 2000;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > giveUp) throw err;
      Atomics.wait(PAUSE, 0, 0, 5); // a non-blocking descriptor that is full: wait for the reader
    }
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));
