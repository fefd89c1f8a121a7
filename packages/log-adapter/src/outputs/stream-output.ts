import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
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
        : createWriteStream(target.path, { flags: 'a', highWaterMark: 1 << 20 });
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
