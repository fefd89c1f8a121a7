/**
 * shard-ambassador's zero-copy framers (this file, resp-reply.ts and memcache/) stay apart from
 * core's protocol helpers on purpose: core's RESP helpers decode values into strings and arrays
 * for the adapters that read replies, while a sharding proxy must never decode on its hot path.
 * These record offsets into the shared read buffer (no string, no Buffer per request), resume a
 * partial frame where they stopped (work done on it is never redone, so a client trickling one
 * huge frame costs O(bytes), not O(bytes^2)), and enforce the limits a hostile client meets.
 */
import { findByte } from '../net/find-byte.js';
import { shiftOffsets } from '../net/offsets.js';

/** Why a client's bytes were refused; the message becomes `-ERR Protocol error: ...`. */
export class ProtocolError extends Error {}

const CR = 13;
const LF = 10;
/**
 * `*<count>\r\n` and `$<length>\r\n` lines are short (Redis refuses leading zeros and counts
 * over 2^31): a header that has no CRLF after this many bytes is refused at once instead of
 * being buffered up to the inline limit.
 */
const MAX_HEADER_LINE = 32;
/** Redis 7 refuses more arguments, and longer ones, from a client that has not authenticated. */
export const UNAUTHENTICATED_MAX_ARGS = 10;
export const UNAUTHENTICATED_MAX_BULK = 16 * 1024;

/** Where the parser is inside a partial frame. */
const Phase = { Start: 0, Count: 1, ArgHeader: 2, Payload: 3, Inline: 4 } as const;

export interface RespLimits {
  /** most arguments (multibulk count) */
  maxArgs: number;
  /** largest request in bytes (all of it: headers, arguments) */
  maxSize: number;
  /** longest inline (telnet) command line; Redis: 64 KiB */
  maxInline: number;
}

/**
 * Incremental parser of client requests (RESP2 multibulk, plus inline commands for telnet).
 * It copies nothing: for each complete request it records where the frame ends and where each
 * argument sits in the buffer, which is all routing needs; the raw frame is forwarded as is.
 *
 * Resumable: when parse() returns false it keeps what it learned about the partial frame (the
 * argument count, the arguments so far, where its CRLF search stopped). The next call must pass
 * the same frame, at any offset, with more bytes after it; it carries on from there. Anything
 * else (a new connection, bytes dropped) needs reset().
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
  /** the client has not authenticated yet (a pool with redis_auth): Redis's tighter limits apply */
  unauthenticated = false;

  // the partial frame, offsets relative to its start
  private phase: number = Phase.Start;
  /** where the CRLF (or LF) search resumes */
  private scan = 0;
  /** where the next element starts */
  private next = 0;
  /** arguments parsed (complete ones) */
  private done = 0;
  /** entries of starts/ends that hold relative offsets (kept from an earlier call) */
  private relative = 0;

  constructor(private readonly limits: RespLimits) {}

  /** Forgets a partial frame. */
  reset(): void {
    this.phase = Phase.Start;
    this.relative = 0;
  }

  /** Parses one request at buf[pos..end); false if incomplete. Throws ProtocolError on bad bytes. */
  parse(buf: Buffer, pos: number, end: number): boolean {
    if (this.phase === Phase.Start) {
      if (pos >= end) return this.incomplete(pos, end, 1);
      if (buf[pos] !== 0x2a /* * */) {
        this.phase = Phase.Inline;
        this.scan = 0;
      } else {
        this.phase = Phase.Count;
        this.scan = 1;
      }
    }
    if (this.phase === Phase.Inline) return this.parseInline(buf, pos, end);
    this.inline = false;
    let n = this.argc;
    if (this.phase === Phase.Count) {
      const lineEnd = findCrlf(buf, pos + this.scan, end);
      if (lineEnd < 0) {
        if (end - pos > MAX_HEADER_LINE) throw new ProtocolError('invalid multibulk length');
        this.scan = Math.max(1, end - pos - 1);
        return this.incomplete(pos, end, 0);
      }
      const count = readInt(buf, pos + 1, lineEnd);
      if (count === null) throw new ProtocolError('invalid multibulk length');
      if (count <= 0) throw new ProtocolError('empty request');
      if (this.unauthenticated && count > UNAUTHENTICATED_MAX_ARGS)
        throw new ProtocolError('unauthenticated multibulk length');
      if (count > this.limits.maxArgs)
        throw new ProtocolError(`too many arguments (${count} > ${this.limits.maxArgs})`);
      if (count > this.starts.length) this.grow(count, 0);
      n = count;
      this.argc = n;
      this.done = 0;
      this.next = lineEnd + 2 - pos;
      this.phase = Phase.ArgHeader;
      this.scan = this.next + 1;
    }
    const starts = this.starts;
    const ends = this.ends;
    let i = this.done;
    let p = pos + this.next;
    let phase = this.phase;
    // entries below `rel` were kept from an earlier call: relative to the frame start
    const rel = this.relative;
    while (i < n) {
      if (phase === Phase.ArgHeader) {
        if (p >= end) return this.suspend(pos, end, i, p, phase, p - pos + 4);
        if (buf[p] !== 0x24 /* $ */)
          throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[p]!)}'`);
        const from = pos + this.scan;
        const le = findCrlf(buf, from > p ? from : p + 1, end);
        if (le < 0) {
          if (end - p > MAX_HEADER_LINE) throw new ProtocolError('invalid bulk length');
          this.scan = Math.max(p + 1, end - 1) - pos;
          return this.suspend(pos, end, i, p, phase, 0);
        }
        const len = readInt(buf, p + 1, le);
        if (len === null || len < 0) throw new ProtocolError('invalid bulk length');
        if (this.unauthenticated && len > UNAUTHENTICATED_MAX_BULK)
          throw new ProtocolError('unauthenticated bulk length');
        const start = le + 2;
        if (start - pos + len > this.limits.maxSize)
          throw new ProtocolError(`request larger than ${this.limits.maxSize} bytes`);
        starts[i] = start;
        ends[i] = start + len;
        phase = Phase.Payload;
      }
      // Payload: argument i's bytes and their CRLF
      const stop = i < rel ? ends[i]! + pos : ends[i]!;
      if (stop + 2 > end) return this.suspend(pos, end, i + 1, p, phase, stop + 2 - pos);
      if (buf[stop] !== CR || buf[stop + 1] !== LF)
        throw new ProtocolError('bulk string not terminated by CRLF');
      p = stop + 2;
      i++;
      phase = Phase.ArgHeader;
      this.scan = 0;
    }
    // arguments kept from earlier calls hold offsets relative to the frame start
    if (rel > 0) shiftOffsets(starts, ends, 0, rel, pos);
    this.relative = 0;
    this.phase = Phase.Start;
    this.frameEnd = p;
    return true;
  }

  /**
   * Keeps the state of a partial multibulk frame: `stored` entries of starts/ends are set (the
   * arguments done, plus the one whose payload is awaited), `p` is where the element being read
   * starts. Offsets are made relative to the frame start (each entry once).
   */
  private suspend(pos: number, end: number, stored: number, p: number, phase: number, need: number): false {
    if (phase === Phase.Payload) {
      // starts/ends[stored - 1] belong to the argument being read
      this.done = stored - 1;
    } else this.done = stored;
    shiftOffsets(this.starts, this.ends, this.relative, stored, -pos);
    this.relative = stored;
    this.next = p - pos;
    this.phase = phase;
    return this.incomplete(pos, end, need);
  }

  private parseInline(buf: Buffer, pos: number, end: number): boolean {
    const nl = findByte(buf, LF, pos + this.scan, end);
    if (nl < 0) {
      if (end - pos > this.limits.maxInline) throw new ProtocolError('too big inline request');
      this.scan = end - pos;
      return this.incomplete(pos, end, 0);
    }
    if (nl - pos > this.limits.maxInline) throw new ProtocolError('too big inline request');
    this.phase = Phase.Start;
    let stop = nl;
    if (stop > pos && buf[stop - 1] === CR) stop--;
    let n = 0;
    let i = pos;
    while (i < stop) {
      while (i < stop && buf[i] === 0x20) i++;
      if (i >= stop) break;
      const s = i;
      while (i < stop && buf[i] !== 0x20) i++;
      if (n >= this.starts.length) this.grow(n + 1, n);
      if (n >= this.limits.maxArgs || (this.unauthenticated && n >= UNAUTHENTICATED_MAX_ARGS))
        throw new ProtocolError('too many arguments');
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
    if (end - pos > this.limits.maxSize)
      throw new ProtocolError(`request larger than ${this.limits.maxSize} bytes`);
    this.need = Math.max(need, end - pos + 1);
    return false;
  }

  /** Room for n arguments, keeping the first `keep`. */
  private grow(n: number, keep: number): void {
    let size = this.starts.length;
    while (size < n) size *= 2;
    const s = new Int32Array(size);
    const e = new Int32Array(size);
    s.set(this.starts.subarray(0, keep));
    e.set(this.ends.subarray(0, keep));
    this.starts = s;
    this.ends = e;
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
