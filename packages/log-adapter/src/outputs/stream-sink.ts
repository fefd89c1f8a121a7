import { once } from 'node:events';
import {
  closeSync,
  createWriteStream,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  type WriteStream,
} from 'node:fs';
import type { SendResult, Sink } from './sink.js';

/**
 * stdout or a file, through an fs write stream: writes run on the libuv pool, so a slow pipe
 * reader blocks neither the event loop nor the admin server. A batch counts as delivered once
 * written to the file descriptor; after a write error (reader gone, disk full) nothing more is
 * acknowledged, so positions stay before the lost batch.
 */
export class StreamSink implements Sink {
  private readonly stream: WriteStream;
  private failed: Error | undefined;

  constructor(target: { fd: number } | { path: string }) {
    this.stream =
      'fd' in target
        ? createWriteStream('', { fd: target.fd, autoClose: false, highWaterMark: 1 << 20 })
        : createWriteStream(cutTornLine(target.path), { flags: 'a', highWaterMark: 1 << 20 });
    this.stream.on('error', (err) => {
      this.failed = err;
    });
  }

  send(body: string): Promise<SendResult> {
    if (this.failed) return Promise.resolve({ ok: false, retry: false, reason: this.failed.message });
    return new Promise((resolve) =>
      this.stream.write(body, (err) =>
        resolve(err ? { ok: false, retry: false, reason: err.message } : { ok: true }),
      ),
    );
  }

  /** Ends the stream (fd 1 stays open: autoClose is off) once everything written is flushed. */
  async close(): Promise<void> {
    if (this.failed || this.stream.writableFinished) return;
    const finished = once(this.stream, 'finish').catch(() => {});
    this.stream.end();
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
