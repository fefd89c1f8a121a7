import { shiftOffsets } from '../net/offsets.js';
import { readInt } from '../redis/resp-request.js';

export class MemcacheProtocolError extends Error {}

const LF = 10;
/** memcached's KEY_MAX_LENGTH */
export const MAX_KEY = 250;

export interface MemcacheLimits {
  /** most tokens on a line (keys of a get) */
  maxTokens: number;
  /** largest request in bytes (line and data block) */
  maxSize: number;
  /** longest command line other than get/gets/gat/gats (memcached closes at 2048) */
  maxLine: number;
  /** longest key (memcached: 250) */
  maxKey: number;
  /** largest data block of a storage command (memcached's -I, 1 MiB by default) */
  maxValue: number;
}

const Phase = { Line: 0, Data: 1 } as const;
/** Bytes of a line scanned one at a time before the rest is searched with indexOf. */
const LONG_LINE = 512;

/** Is buf[s, e) one of get, gets, gat, gats (whose lines carry many keys and may be long)? */
function isRetrieval(buf: Buffer, s: number, e: number): boolean {
  const n = e - s;
  if (n < 3 || n > 4 || buf[s] !== 0x67 /* g */) return false;
  const b1 = buf[s + 1];
  const b2 = buf[s + 2];
  if (b1 === 0x65 /* e */ && b2 === 0x74 /* t */) return n === 3 || buf[s + 3] === 0x73; /* s */
  if (b1 === 0x61 /* a */ && b2 === 0x74 /* t */) return n === 3 || buf[s + 3] === 0x73;
  return false;
}

/**
 * Incremental parser of memcached text-protocol requests: splits the command line into
 * tokens (offsets only) and, for storage commands (set, cas, ms ...), finds the data block.
 *
 * Resumable (see redis/resp-request.ts for why this framer is not core's): a line that has no
 * LF yet is scanned once, its tokens so far kept, and the next call carries on where the scan
 * stopped. The next call must pass the same request at any offset with more bytes after it;
 * anything else needs reset(). Limits apply while the line arrives, as memcached applies them:
 * a line that is not a get/gets/gat/gats may not pass `maxLine`, a key not `maxKey`.
 */
export class MemcacheRequestParser {
  starts = new Int32Array(32);
  ends = new Int32Array(32);
  ntokens = 0;
  /** end of the complete request (line and data block) */
  frameEnd = 0;
  /** data block of a storage command, without its CRLF; -1 when none */
  dataStart = -1;
  need = 0;

  // the partial request, offsets relative to its start
  private phase: number = Phase.Line;
  private scan = 0;
  /** start of the token being read, -1 between tokens */
  private from = -1;
  private retrieval = false;
  /** tokens of the partial line so far */
  private tokens = 0;
  /** tokens (entries of starts/ends) that hold relative offsets */
  private relative = 0;
  /** Data phase: where the data block starts and how long it is */
  private dataAt = 0;
  private dataLen = 0;

  constructor(private readonly limits: MemcacheLimits) {}

  /** Forgets a partial request. */
  reset(): void {
    this.resetLine();
  }

  /** Parses the request at pos; false if incomplete. `dataLength(tokens)` says if it has a data block. */
  parse(
    buf: Buffer,
    pos: number,
    end: number,
    dataLength: (p: MemcacheRequestParser, buf: Buffer) => number,
  ): boolean {
    if (this.phase === Phase.Data) return this.parseData(buf, pos, end);
    // one pass: tokens (space separated) are recorded while looking for the LF
    const maxKey = this.limits.maxKey;
    let n = this.tokens;
    let from = this.from < 0 ? -1 : pos + this.from;
    let retrieval = this.retrieval;
    let i = pos + this.scan;
    // a byte at a time over a line's first bytes (a whole request, usually); a long line is
    // searched with Buffer#indexOf (memchr), which is many times faster per byte
    const fastEnd = Math.min(end, pos + LONG_LINE);
    for (; i < fastEnd; i++) {
      const b = buf[i]!;
      if (b === LF) break;
      if (b === 0x20) {
        if (from >= 0) {
          if (n === 0) retrieval = isRetrieval(buf, from, i);
          else if (retrieval && i - from > maxKey) this.keyTooLong();
          n = this.push(n, from, i);
          from = -1;
        }
      } else if (from < 0) from = i;
    }
    if (i >= fastEnd && i < end) {
      this.tokens = n;
      this.from = from;
      this.retrieval = retrieval;
      i = this.scanLong(buf, i, end);
      n = this.tokens;
      from = this.from;
      retrieval = this.retrieval;
    }
    if (i === end) {
      const limit = retrieval ? this.limits.maxSize : this.limits.maxLine;
      if (end - pos > limit) this.lineTooLong(limit);
      if (retrieval && from >= 0 && end - from > maxKey) this.keyTooLong();
      // keep the line so far: tokens made relative to its start (each one once)
      shiftOffsets(this.starts, this.ends, this.relative, n, -pos);
      this.relative = n;
      this.tokens = n;
      this.from = from < 0 ? -1 : from - pos;
      this.retrieval = retrieval;
      this.scan = end - pos;
      this.need = end - pos + 1;
      return false;
    }
    const nl = i;
    if (nl - pos > (retrieval ? this.limits.maxSize : this.limits.maxLine))
      this.lineTooLong(retrieval ? this.limits.maxSize : this.limits.maxLine);
    if (from >= 0) {
      // the line's CR (before its LF) is not part of the last token
      const stop = buf[nl - 1] === 13 ? nl - 1 : nl;
      if (stop > from) {
        if (n === 0) retrieval = isRetrieval(buf, from, stop);
        else if (retrieval && stop - from > maxKey) this.keyTooLong();
        n = this.push(n, from, stop);
      }
    }
    shiftOffsets(this.starts, this.ends, 0, this.relative, pos);
    this.relative = 0;
    this.ntokens = n;
    this.dataStart = -1;
    const lineEnd = nl + 1;
    const len = n > 0 ? dataLength(this, buf) : -1;
    if (len < 0) {
      this.frameEnd = lineEnd;
      this.resetLine();
      return true;
    }
    if (len > this.limits.maxValue)
      throw new MemcacheProtocolError(`value larger than ${this.limits.maxValue} bytes`);
    if (lineEnd - pos + len + 2 > this.limits.maxSize)
      throw new MemcacheProtocolError(`request larger than ${this.limits.maxSize} bytes`);
    this.dataAt = lineEnd - pos;
    this.dataLen = len;
    return this.parseData(buf, pos, end);
  }

  /**
   * The rest of a long line from i: finds its LF (or the end of the bytes) with indexOf, then
   * its tokens with indexOf of the spaces. Works on this.tokens, this.from (absolute here) and
   * this.retrieval; returns where the line ends (its LF) or `end`.
   */
  private scanLong(buf: Buffer, i: number, end: number): number {
    const maxKey = this.limits.maxKey;
    const view = buf.subarray(0, end);
    const lf = view.indexOf(LF, i);
    const stop = lf < 0 ? end : lf;
    let n = this.tokens;
    let from = this.from;
    let p = i;
    while (p < stop) {
      if (from < 0) {
        while (p < stop && buf[p] === 0x20) p++;
        if (p >= stop) break;
        from = p;
      }
      const sp = view.indexOf(0x20, p);
      if (sp < 0 || sp >= stop) break; // the token runs on to the LF, or past these bytes
      if (n === 0) this.retrieval = isRetrieval(buf, from, sp);
      else if (this.retrieval && sp - from > maxKey) this.keyTooLong();
      n = this.push(n, from, sp);
      from = -1;
      p = sp + 1;
    }
    this.tokens = n;
    this.from = from;
    return stop;
  }

  /** The data block of a storage command whose line is parsed (tokens absolute, or relative when resumed). */
  private parseData(buf: Buffer, pos: number, end: number): boolean {
    const n = this.ntokens;
    const start = pos + this.dataAt;
    const total = start + this.dataLen + 2;
    if (total > end) {
      shiftOffsets(this.starts, this.ends, this.relative, n, -pos);
      this.relative = n;
      this.phase = Phase.Data;
      this.need = total - pos;
      return false;
    }
    if (buf[total - 2] !== 13 || buf[total - 1] !== LF) throw new MemcacheProtocolError('bad data chunk');
    shiftOffsets(this.starts, this.ends, 0, this.relative, pos);
    this.relative = 0;
    this.dataStart = start;
    this.frameEnd = total;
    this.resetLine();
    return true;
  }

  /** Ready for the next request (ntokens stays: it describes the request just parsed). */
  private resetLine(): void {
    this.phase = Phase.Line;
    this.scan = 0;
    this.from = -1;
    this.tokens = 0;
    this.retrieval = false;
    this.relative = 0;
  }

  /** Records token n as buf[from, to); returns the token count. */
  private push(n: number, from: number, to: number): number {
    if (n >= this.limits.maxTokens) throw new MemcacheProtocolError('too many keys');
    if (n >= this.starts.length) this.grow();
    this.starts[n] = from;
    this.ends[n] = to;
    return n + 1;
  }

  private lineTooLong(limit: number): never {
    throw new MemcacheProtocolError(`line too long (over ${limit} bytes)`);
  }

  private keyTooLong(): never {
    throw new MemcacheProtocolError(`key longer than ${this.limits.maxKey} bytes`);
  }

  token(buf: Buffer, i: number): string {
    return buf.toString('latin1', this.starts[i]!, this.ends[i]!);
  }

  int(buf: Buffer, i: number): number | null {
    return i < this.ntokens ? readInt(buf, this.starts[i]!, this.ends[i]!) : null;
  }

  private grow(): void {
    const s = new Int32Array(this.starts.length * 2);
    const e = new Int32Array(this.ends.length * 2);
    s.set(this.starts);
    e.set(this.ends);
    this.starts = s;
    this.ends = e;
  }
}
