import { findByte } from '../net/find-byte.js';
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
    const nl = findByte(buf, LF, pos, end);
    if (nl < 0) {
      if (end - pos > this.maxSize) throw new MemcacheProtocolError('line too long');
      this.need = end - pos + 1;
      return false;
    }
    if (nl - pos > this.maxSize) throw new MemcacheProtocolError('line too long');
    const stop = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl;
    let n = 0;
    let i = pos;
    while (i < stop) {
      while (i < stop && buf[i] === 0x20) i++;
      if (i >= stop) break;
      const s = i;
      while (i < stop && buf[i] !== 0x20) i++;
      if (n >= this.maxTokens) throw new MemcacheProtocolError('too many keys');
      if (n >= this.starts.length) this.grow();
      this.starts[n] = s;
      this.ends[n] = i;
      n++;
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
