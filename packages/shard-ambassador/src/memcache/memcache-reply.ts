import { findByte } from '../net/find-byte.js';
import { readInt } from '../redis/resp-request.js';
import { ReplyKind } from './reply-kind.js';

const LF = 10;
/** A VALUE line holds a key of at most 250 bytes and three numbers: longer is not memcached. */
const MAX_VALUE_LINE = 2048;

const startsWith = (buf: Buffer, p: number, text: string): boolean => {
  for (let i = 0; i < text.length; i++) if (buf[p + i] !== text.charCodeAt(i)) return false;
  return true;
};

/**
 * Frames memcached text-protocol replies by the kind of request they answer.
 *
 * Resumable (see redis/resp-request.ts): after -1 it remembers where the reply's next block
 * starts (a multi-get's VALUE blocks already walked are not walked again) or where its LF
 * search stopped. The next call must pass the same reply, at any offset, with more bytes;
 * otherwise reset() first.
 */
export class MemcacheReplyFramer {
  need = 0;
  /** a reply is in progress: `next` and `scan` are relative to its start */
  private active = false;
  /** where the next line (retrieval: VALUE or END) starts; may lie beyond the bytes so far */
  private next = 0;
  /** where the LF search of a line resumes */
  private scan = 0;

  reset(): void {
    this.active = false;
  }

  frame(buf: Buffer, pos: number, end: number, kind: number): number {
    let p = pos;
    let scan = pos;
    if (this.active) {
      p = pos + this.next;
      scan = pos + this.scan;
      this.active = false;
    }
    this.need = 0;
    if (kind !== ReplyKind.Retrieval) {
      if (p > pos) {
        // a meta data block after its VA line
        return p > end ? this.incomplete(pos, end, p, p) : p;
      }
      const nl = findByte(buf, LF, scan, end);
      if (nl < 0) return this.incomplete(pos, end, pos, end);
      const lineEnd = nl + 1;
      if (kind === ReplyKind.Line || !startsWith(buf, pos, 'VA ')) return lineEnd;
      // meta: a VA line is followed by its data block
      const size = tokenInt(buf, pos + 3, nl);
      if (size === null) throw new Error('invalid VA size in meta reply');
      const stop = lineEnd + size + 2;
      return stop > end ? this.incomplete(pos, end, stop, stop) : stop;
    }
    // retrieval: VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n ... END\r\n
    for (;;) {
      if (p > end) return this.incomplete(pos, end, p, p);
      if (end - p < 6 || !startsWith(buf, p, 'VALUE ')) {
        // END, or an error line (or too few bytes yet to tell)
        const nl = findByte(buf, LF, Math.max(scan, p), end);
        return nl < 0 ? this.incomplete(pos, end, p, end) : nl + 1;
      }
      const size = this.valueLine(buf, p + 6, end);
      if (size < 0) {
        if (end - p > MAX_VALUE_LINE) throw new Error('invalid VALUE line in reply');
        return this.incomplete(pos, end, p, p);
      }
      p = this.lineEnd + size + 2;
      scan = p;
    }
  }

  /** after valueLine: where the VALUE line ends (after its LF) */
  private lineEnd = 0;

  /**
   * Reads the rest of a VALUE line from `from` (after "VALUE ") in one pass: skips the key and
   * flags, reads <bytes>, finds the LF. Returns <bytes>, or -1 when the line is not complete.
   */
  private valueLine(buf: Buffer, from: number, end: number): number {
    let i = from;
    for (let t = 0; t < 2; t++) {
      // the key, then the flags
      while (i < end && buf[i] === 0x20) i++;
      while (i < end && buf[i] !== 0x20 && buf[i] !== LF) i++;
      if (i < end && buf[i] === LF) throw new Error('invalid VALUE line in reply');
    }
    while (i < end && buf[i] === 0x20) i++;
    let n = 0;
    const first = i;
    for (; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (i === end || (buf[i] === 13 && i + 1 === end)) return -1;
    const c = buf[i];
    const ok = c === 0x20 || c === LF || (c === 13 && buf[i + 1] === LF);
    if (i === first || i - first > 16 || !ok) throw new Error('invalid VALUE line in reply');
    const nl = findByte(buf, LF, i, end);
    if (nl < 0) return -1;
    this.lineEnd = nl + 1;
    return n;
  }

  /**
   * Not complete: the walk resumes at `next` (a line start, or the end of a data block still
   * arriving) with its LF search at `scan`; `need` counts from the reply's start.
   */
  private incomplete(pos: number, end: number, next: number, scan: number): number {
    this.active = true;
    this.next = next - pos;
    this.scan = scan - pos;
    this.need = Math.max(next > end ? next - pos : 0, end - pos + 1);
    return -1;
  }
}

/** The first space-separated decimal token in buf[from, to). */
function tokenInt(buf: Buffer, from: number, to: number): number | null {
  let e = from;
  while (e < to && buf[e] !== 0x20 && buf[e] !== 13) e++;
  return readInt(buf, from, e);
}
