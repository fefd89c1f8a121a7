import { copyBytes } from '../net/copy-bytes.js';
import type { Request } from './request.js';

const SLAB = 4096;

/**
 * Where a client session keeps replies that came before an earlier request was answered (a
 * pipelining client's replies arrive from several shards in any order): copied into a slab,
 * the request remembering where, instead of a Buffer per reply. The slab is reused from the
 * start whenever no kept reply is left, and replaced when full (the old one lives on until
 * its replies are written out).
 */
export class ReplyStore {
  private slab: Buffer | null = null;
  private end = 0;
  private held = 0;
  /** bytes kept since no kept reply was left (what the slabs hold, at most) */
  bytes = 0;

  /** Copies buf[start, end) for `req` (req.reply, req.replyStart, req.replyEnd). */
  keep(req: Request, buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.slab === null || this.end + n > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(SLAB, n));
      this.end = 0;
    }
    copyBytes(buf, start, end, this.slab, this.end);
    req.reply = this.slab;
    req.replyStart = this.end;
    req.replyEnd = this.end + n;
    this.end += n;
    this.held++;
    this.bytes += n;
  }

  /** A kept reply was written out (and the request let go of it). */
  release(): void {
    if (--this.held === 0) {
      this.end = 0;
      this.bytes = 0;
    }
  }
}
