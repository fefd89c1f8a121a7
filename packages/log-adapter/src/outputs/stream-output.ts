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
import type { Output } from './output.js';

/**
 * stdout or a file, through an fs write stream: writes run on the libuv pool, so a slow pipe
 * reader blocks neither the event loop nor the admin server; `room()` follows the stream's
 * high-water mark.
 */
export class StreamOutput implements Output {
  private readonly stream: WriteStream;

  constructor(target: { fd: number } | { path: string }, onError: (err: Error) => void) {
    this.stream =
      'fd' in target
        ? createWriteStream('', { fd: target.fd, autoClose: false, highWaterMark: 1 << 20 })
        : createWriteStream(cutTornLine(target.path), { flags: 'a', highWaterMark: 1 << 20 });
    this.stream.on('error', (err) => {
      this.failed = err;
      onError(err);
    });
  }

  private failed: Error | undefined;

  write(batch: string, _records: number, done: () => void): void {
    // after a write error (reader gone, disk full) nothing is acknowledged: positions stay put
    if (!this.failed) this.stream.write(batch, (err) => !err && done());
  }

  async room(): Promise<void> {
    if (this.stream.writableNeedDrain && !this.failed) await once(this.stream, 'drain');
  }

  /** Ends the stream (fd 1 stays open: autoClose is off) once everything queued is written. */
  async close(deadline: number): Promise<void> {
    if (this.failed) return;
    const finished = once(this.stream, 'finish').catch(() => {});
    this.stream.end();
    await Promise.race([finished, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
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
