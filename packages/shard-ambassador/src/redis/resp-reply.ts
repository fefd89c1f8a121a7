import { findCrlf, readInt } from './resp-request.js';

const MAX_DEPTH = 64;

/**
 * Frames RESP2 replies from a server without decoding them: returns where the reply that
 * starts at `pos` ends, or -1 (and sets `need`). Nested arrays (EVAL, EXEC) are walked.
 *
 * Resumable, like the request parser (see resp-request.ts): after -1 it remembers how far the
 * walk got (the element it stopped at and the elements still owed at each nesting level), so a
 * reply of a million elements arriving in 64 KiB reads is walked once, not once per read. The
 * next call must pass the same reply, at any offset, with more bytes; otherwise reset() first.
 */
export class RespReplyFramer {
  need = 0;
  /** elements still owed per open level; depth 0 = no reply in progress */
  private owed: Int32Array = new Int32Array(8);
  private depth = 0;
  /** relative to the reply's start: the element being read, and where its CRLF search resumes */
  private next = 0;
  private scan = 0;

  reset(): void {
    this.depth = 0;
  }

  frame(buf: Buffer, pos: number, end: number): number {
    let depth = this.depth;
    let owed: Int32Array = this.owed;
    let p: number;
    let scan: number;
    if (depth === 0) {
      depth = 1;
      owed[0] = 1;
      p = pos;
      scan = pos + 1;
    } else {
      p = pos + this.next;
      scan = pos + this.scan;
    }
    for (;;) {
      while (depth > 0 && owed[depth - 1] === 0) depth--;
      if (p > end) return this.suspend(pos, end, depth, p, p, p - pos);
      if (depth === 0) {
        this.depth = 0;
        return p;
      }
      if (p >= end) return this.suspend(pos, end, depth, p, p + 1, 0);
      const t = buf[p];
      const le = findCrlf(buf, scan > p ? scan : p + 1, end);
      if (le < 0) return this.suspend(pos, end, depth, p, Math.max(p + 1, end - 1), 0);
      owed[depth - 1]!--;
      switch (t) {
        case 0x2b: // +
        case 0x2d: // -
        case 0x3a: // :
          p = le + 2;
          break;
        case 0x24: {
          // $: the bytes may not be here yet; p then lies beyond end (checked above)
          const len = readInt(buf, p + 1, le);
          if (len === null) throw this.bad('invalid bulk length in reply');
          p = len < 0 ? le + 2 : le + 2 + len + 2;
          break;
        }
        case 0x2a: {
          // *
          const n = readInt(buf, p + 1, le);
          if (n === null) throw this.bad('invalid array length in reply');
          p = le + 2;
          if (n > 0) {
            if (depth >= MAX_DEPTH) throw this.bad('reply nested too deeply');
            if (depth === owed.length) owed = this.growTo(depth * 2);
            owed[depth++] = n;
          }
          break;
        }
        default:
          throw this.bad(`unexpected reply type byte 0x${(t ?? 0).toString(16)}`);
      }
      scan = p + 1;
    }
  }

  private suspend(pos: number, end: number, depth: number, p: number, scan: number, need: number): -1 {
    this.depth = depth;
    this.next = p - pos;
    this.scan = scan - pos;
    this.need = Math.max(need, end - pos + 1);
    return -1;
  }

  private bad(message: string): Error {
    this.depth = 0;
    return new Error(message);
  }

  private growTo(n: number): Int32Array {
    const next = new Int32Array(n);
    next.set(this.owed);
    this.owed = next;
    return next;
  }
}
