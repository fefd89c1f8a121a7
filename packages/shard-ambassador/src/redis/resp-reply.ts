import { findCrlf, readInt } from './resp-request.js';

/**
 * Frames RESP2 replies from a server without decoding them: returns where the reply that
 * starts at `pos` ends, or -1 (and sets `need`). Nested arrays (EVAL, EXEC) are walked.
 */
export class RespReplyFramer {
  need = 0;
  private maxDepth = 64;

  frame(buf: Buffer, pos: number, end: number): number {
    const e = this.skip(buf, pos, end, 0);
    if (e < 0) this.need = Math.max(this.need - pos, end - pos + 1);
    return e;
  }

  /** end of the element at p, or -1; on -1 `need` holds an absolute end offset hint or 0 */
  private skip(buf: Buffer, p: number, end: number, depth: number): number {
    this.need = 0;
    if (p >= end) return -1;
    const t = buf[p];
    const le = findCrlf(buf, p + 1, end);
    if (le < 0) return -1;
    switch (t) {
      case 0x2b: // +
      case 0x2d: // -
      case 0x3a: // :
        return le + 2;
      case 0x24: {
        // $
        const len = readInt(buf, p + 1, le);
        if (len === null) throw new Error('invalid bulk length in reply');
        if (len < 0) return le + 2;
        const stop = le + 2 + len + 2;
        if (stop > end) {
          this.need = stop;
          return -1;
        }
        return stop;
      }
      case 0x2a: {
        // *
        const n = readInt(buf, p + 1, le);
        if (n === null) throw new Error('invalid array length in reply');
        if (depth >= this.maxDepth) throw new Error('reply nested too deeply');
        let q = le + 2;
        for (let i = 0; i < n; i++) {
          q = this.skip(buf, q, end, depth + 1);
          if (q < 0) return -1;
        }
        return q;
      }
      default:
        throw new Error(`unexpected reply type byte 0x${(t ?? 0).toString(16)}`);
    }
  }
}
