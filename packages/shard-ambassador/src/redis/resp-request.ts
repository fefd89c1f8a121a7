import { findByte } from '../net/find-byte.js';
/** Why a client's bytes were refused; the message becomes `-ERR Protocol error: ...`. */
export class ProtocolError extends Error {}

const CR = 13;
const LF = 10;

/**
 * Incremental parser of client requests (RESP2 multibulk, plus inline commands for telnet).
 * It copies nothing: for each complete request it records where the frame ends and where each
 * argument sits in the buffer, which is all routing needs; the raw frame is forwarded as is.
 */
export class RespRequestParser {
  /** argument i is buf[starts[i], ends[i]) */
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  argc = 0;
  /** end of the last complete frame */
  frameEnd = 0;
  /** the request was inline (space separated); its bytes are not RESP and must be re-encoded */
  inline = false;
  /** least bytes from the frame start needed to complete it, when parse() returned false */
  need = 0;

  constructor(
    private readonly maxArgs: number,
    private readonly maxSize: number,
  ) {}

  /** Parses one request at buf[pos..end); false if incomplete. Throws ProtocolError on bad bytes. */
  parse(buf: Buffer, pos: number, end: number): boolean {
    if (buf[pos] !== 0x2a /* * */) return this.parseInline(buf, pos, end);
    this.inline = false;
    let p = pos + 1;
    const lineEnd = findCrlf(buf, p, end);
    if (lineEnd < 0) return this.incomplete(pos, end, 0);
    const n = readInt(buf, p, lineEnd);
    if (n === null) throw new ProtocolError('invalid multibulk length');
    if (n > this.maxArgs) throw new ProtocolError(`too many arguments (${n} > ${this.maxArgs})`);
    if (n <= 0) throw new ProtocolError('empty request');
    if (n > this.starts.length) this.grow(n);
    p = lineEnd + 2;
    for (let i = 0; i < n; i++) {
      if (p >= end) return this.incomplete(pos, end, p - pos + 4);
      if (buf[p] !== 0x24 /* $ */)
        throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[p]!)}'`);
      const le = findCrlf(buf, p + 1, end);
      if (le < 0) return this.incomplete(pos, end, 0);
      const len = readInt(buf, p + 1, le);
      if (len === null || len < 0) throw new ProtocolError('invalid bulk length');
      const start = le + 2;
      if (start - pos + len > this.maxSize)
        throw new ProtocolError(`request larger than ${this.maxSize} bytes`);
      const stop = start + len;
      if (stop + 2 > end) return this.incomplete(pos, end, stop + 2 - pos);
      if (buf[stop] !== CR || buf[stop + 1] !== LF)
        throw new ProtocolError('bulk string not terminated by CRLF');
      this.starts[i] = start;
      this.ends[i] = stop;
      p = stop + 2;
    }
    this.argc = n;
    this.frameEnd = p;
    return true;
  }

  private parseInline(buf: Buffer, pos: number, end: number): boolean {
    const nl = findByte(buf, LF, pos, end);
    if (nl < 0) return this.incomplete(pos, end, 0);
    let stop = nl;
    if (stop > pos && buf[stop - 1] === CR) stop--;
    let n = 0;
    let i = pos;
    while (i < stop) {
      while (i < stop && buf[i] === 0x20) i++;
      if (i >= stop) break;
      const s = i;
      while (i < stop && buf[i] !== 0x20) i++;
      if (n >= this.starts.length) this.grow(n + 1);
      if (n >= this.maxArgs) throw new ProtocolError('too many arguments');
      this.starts[n] = s;
      this.ends[n] = i;
      n++;
    }
    this.inline = true;
    this.argc = n;
    this.frameEnd = nl + 1;
    return true;
  }

  private incomplete(pos: number, end: number, need: number): false {
    if (end - pos > this.maxSize) throw new ProtocolError(`request larger than ${this.maxSize} bytes`);
    this.need = Math.max(need, end - pos + 1);
    return false;
  }

  private grow(n: number): void {
    let size = this.starts.length;
    while (size < n) size *= 2;
    this.starts = new Int32Array(size);
    this.ends = new Int32Array(size);
  }
}

/** Index of the CR of the next CRLF at or after `from`, or -1. */
export function findCrlf(buf: Buffer, from: number, end: number): number {
  for (let i = from; i < end - 1; i++) if (buf[i] === CR && buf[i + 1] === LF) return i;
  // a lone CR at the very end may be completed by the next chunk
  return -1;
}

/** Decimal integer in buf[from, to), or null. */
export function readInt(buf: Buffer, from: number, to: number): number | null {
  if (from >= to || to - from > 16) return null;
  let neg = false;
  let i = from;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
    if (i >= to) return null;
  }
  let n = 0;
  for (; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}
