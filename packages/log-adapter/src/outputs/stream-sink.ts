import { once } from 'node:events';
import {
  closeSync,
  createWriteStream,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  type WriteStream,
  write,
} from 'node:fs';
import type { SendResult, Sink } from './sink.js';

/** Longest pause between two tries of a descriptor that answered EAGAIN (its reader is slow). */
const MAX_EAGAIN_WAIT_MS = 50;

/**
 * stdout or a file. Writes run on the libuv pool, so a slow reader blocks neither the event loop
 * nor the admin server. A batch counts as delivered once written to the file descriptor; after a
 * write error (reader gone, disk full) nothing more is acknowledged, so positions stay before the
 * lost batch.
 *
 * stdout is written with fs.write, one batch after the other: its descriptor may be non-blocking
 * (once anything in the process opens process.stdout on a pipe, libuv sets O_NONBLOCK on it), and
 * a full pipe then answers EAGAIN, which an fs write stream takes for a failure. Here EAGAIN means
 * "wait and write the rest".
 */
export class StreamSink implements Sink {
  private readonly stream: WriteStream | undefined;
  private readonly fd: number | undefined;
  private failed: Error | undefined;
  /** the fd writes, in order: a batch starts once the one before is written */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(target: { fd: number } | { path: string }) {
    if ('fd' in target) {
      this.fd = target.fd;
      return;
    }
    this.stream = createWriteStream(cutTornLine(target.path), { flags: 'a', highWaterMark: 1 << 20 });
    this.stream.on('error', (err) => {
      this.failed = err;
    });
  }

  send(body: string): Promise<SendResult> {
    if (this.failed) return Promise.resolve({ ok: false, retry: false, reason: this.failed.message });
    if (this.stream === undefined) {
      const done = this.tail.then(() => this.writeFd(Buffer.from(body)));
      this.tail = done;
      return done;
    }
    const stream = this.stream;
    return new Promise((resolve) =>
      stream.write(body, (err) =>
        resolve(err ? { ok: false, retry: false, reason: err.message } : { ok: true }),
      ),
    );
  }

  private writeFd(buf: Buffer): Promise<SendResult> {
    if (this.failed) return Promise.resolve({ ok: false, retry: false, reason: this.failed.message });
    return new Promise((resolve) => {
      let offset = 0;
      let wait = 1;
      const step = () =>
        write(this.fd!, buf, offset, buf.length - offset, null, (err, n) => {
          if ((err as NodeJS.ErrnoException | null)?.code === 'EAGAIN') {
            setTimeout(step, wait);
            wait = Math.min(wait * 2, MAX_EAGAIN_WAIT_MS);
            return;
          }
          if (err) {
            this.failed = err;
            resolve({ ok: false, retry: false, reason: err.message });
            return;
          }
          offset += n;
          wait = 1;
          if (offset < buf.length) step();
          else resolve({ ok: true });
        });
      step();
    });
  }

  /** Waits until everything sent is written; a file's stream is ended (fd 1 stays open). */
  async close(): Promise<void> {
    await this.tail;
    const stream = this.stream;
    if (stream === undefined || this.failed || stream.writableFinished) return;
    const finished = once(stream, 'finish').catch(() => {});
    stream.end();
    await finished;
  }
}

/**
 * A crash can leave the output file ending in half a record. That batch was never acknowledged,
 * so its records are sent again after the restart; cutting the file back to its last complete
 * line keeps it valid NDJSON instead of gluing the fragment to the next record.
 */
function cutTornLine(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    return path; // does not exist yet
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const nl = buf.subarray(0, n).lastIndexOf(10);
      if (nl >= 0) {
        if (start + nl + 1 < size) ftruncateSync(fd, start + nl + 1);
        return path;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0); // a single torn line and nothing else
    return path;
  } finally {
    closeSync(fd);
  }
}
