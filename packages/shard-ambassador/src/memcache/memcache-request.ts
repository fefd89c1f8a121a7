import { readInt } from '../redis/resp-request.js';

export class MemcacheProtocolError extends Error {}

const LF = 10;
export const MAX_KEY = 250;

/**
 * Incremental parser of memcached text-protocol requests: splits the command line into
 * tokens (offsets only) and, for storage commands (set, cas, ms ...), finds the data block.
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

  constructor(
    private readonly maxTokens: number,
    private readonly maxSize: number,
  ) {}

  /** Parses the request at pos; false if incomplete. `dataLength(tokens)` says if it has a data block. */
  parse(
    buf: Buffer,
    pos: number,
    end: number,
    dataLength: (p: MemcacheRequestParser, buf: Buffer) => number,
  ): boolean {
    // one pass: tokens (space separated) are recorded while looking for the LF
    let n = 0;
    let from = -1; // start of the token being read, -1 between tokens
    let i = pos;
    for (; i < end; i++) {
      const b = buf[i]!;
      if (b === LF) break;
      if (b === 0x20) {
        if (from >= 0) {
          n = this.push(n, from, i);
          from = -1;
        }
      } else if (from < 0) from = i;
    }
    if (i === end) {
      if (end - pos > this.maxSize) throw new MemcacheProtocolError('line too long');
      this.need = end - pos + 1;
      return false;
    }
    const nl = i;
    if (nl - pos > this.maxSize) throw new MemcacheProtocolError('line too long');
    if (from >= 0) {
      // the line's CR (before its LF) is not part of the last token
      const stop = buf[nl - 1] === 13 ? nl - 1 : nl;
      if (stop > from) n = this.push(n, from, stop);
    }
    this.ntokens = n;
    this.dataStart = -1;
    const lineEnd = nl + 1;
    const len = n > 0 ? dataLength(this, buf) : -1;
    if (len < 0) {
      this.frameEnd = lineEnd;
      return true;
    }
    if (len > this.maxSize) throw new MemcacheProtocolError(`value larger than ${this.maxSize} bytes`);
    const total = lineEnd + len + 2;
    if (total > end) {
      this.need = total - pos;
      return false;
    }
    if (buf[lineEnd + len] !== 13 || buf[lineEnd + len + 1] !== LF)
      throw new MemcacheProtocolError('bad data chunk');
    this.dataStart = lineEnd;
    this.frameEnd = total;
    return true;
  }

  /** Records token n as buf[from, to); returns the token count. */
  private push(n: number, from: number, to: number): number {
    if (n >= this.maxTokens) throw new MemcacheProtocolError('too many keys');
    if (n >= this.starts.length) this.grow();
    this.starts[n] = from;
    this.ends[n] = to;
    return n + 1;
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
