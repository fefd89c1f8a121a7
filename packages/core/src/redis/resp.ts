/**
 * RESP2, the Redis protocol, for core's short conversations (a scrape, a health check): commands
 * encoded as arrays of bulk strings, replies decoded incrementally. Long-lived clients with
 * cluster routing and scripts (the rate limiter) use ioredis; this is the part of it a PING or an
 * INFO needs, without the ~10 MB a loaded ioredis costs a sidecar.
 */

/** An error reply (`-ERR ...`): a value in a pipeline's replies, thrown by a single command. */
export class RedisReplyError extends Error {
  override name = 'RedisReplyError';
}

/** Bytes that are not RESP2 (another protocol answered, or a broken server). */
export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}

export type RespValue = string | number | null | RedisReplyError | RespValue[];

/**
 * `*N $len arg ...`: what redis-cli sends. Arguments are strings (UTF-8) or bytes as they are
 * (shard-ambassador re-encodes a client's command from slices of its read buffer); the command
 * is written into one buffer of its exact size.
 */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const top = `*${args.length}\r\n`;
  let size = top.length;
  const heads: string[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const n = typeof a === 'string' ? Buffer.byteLength(a, 'utf8') : a.length;
    const h = `$${n}\r\n`;
    heads[i] = h;
    size += h.length + n + 2;
  }
  const out = Buffer.allocUnsafe(size);
  let o = out.write(top, 0, 'latin1');
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    o += out.write(heads[i]!, o, 'latin1');
    o += typeof a === 'string' ? out.write(a, o, 'utf8') : a.copy(out, o);
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}

/** Nesting deeper than any reply a command sends (EXEC of EXEC is refused by the server). */
const MAX_DEPTH = 32;
/** A line longer than this (a status, an integer, a header) is not a Redis reply. */
const MAX_LINE = 64 * 1024;
/**
 * Elements in one reply, nested ones included: a reply still arriving is parsed again from its
 * start, so this bounds that work (the commands core sends get a few dozen at most).
 */
const MAX_ELEMENTS = 100_000;

const INCOMPLETE = Symbol('incomplete');

/**
 * Incremental RESP2 decoder: push() the bytes as they arrive, get the replies completed so far.
 * A reply split over many reads is parsed again from its start only once enough bytes arrived
 * (a bulk string's declared length is waited for without copying), so a large INFO costs one
 * concatenation. Throws RespProtocolError on bytes that are not RESP2; the caller bounds the total
 * (`awaiting` tells early when a declared length is beyond it).
 */
export class RespDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** bytes needed (from the start of the buffer) before parsing can progress */
  private need = 1;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** set while parsing: the end of the longest bulk string that is not complete yet */
  private wanted = 0;
  private elements = 0;

  push(chunk: Buffer): RespValue[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.need) return [];
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [buf];
    const out: RespValue[] = [];
    let start = 0;
    for (;;) {
      if (start >= buf.length) {
        this.chunks = [];
        this.buffered = 0;
        this.need = 1;
        return out;
      }
      this.buf = buf;
      this.pos = start;
      this.wanted = 0;
      this.elements = 0;
      const value = this.value(0);
      if (value === INCOMPLETE) {
        const rest = buf.subarray(start);
        this.chunks = [rest];
        this.buffered = rest.length;
        this.need = Math.max(rest.length + 1, this.wanted - start);
        return out;
      }
      out.push(value);
      start = this.pos;
    }
  }

  /** bytes held for a reply that is not complete */
  get pending(): number {
    return this.buffered;
  }

  /** bytes that reply needs at least, as far as its headers tell (a bulk string's declared length) */
  get awaiting(): number {
    return this.buffered === 0 ? 0 : this.need;
  }

  private line(): string | typeof INCOMPLETE {
    const buf = this.buf;
    const eol = buf.indexOf('\r\n', this.pos, 'latin1');
    if (eol < 0) {
      if (buf.length - this.pos > MAX_LINE) throw new RespProtocolError('Protocol error, line too long');
      return INCOMPLETE;
    }
    const s = buf.toString('utf8', this.pos, eol);
    this.pos = eol + 2;
    return s;
  }

  private int(s: string): number {
    if (!/^-?\d{1,18}$/.test(s))
      throw new RespProtocolError(`Protocol error, bad length or integer "${s.slice(0, 40)}"`);
    return Number(s);
  }

  private value(depth: number): RespValue | typeof INCOMPLETE {
    const buf = this.buf;
    if (this.pos >= buf.length) return INCOMPLETE;
    const type = buf[this.pos]!;
    this.pos++;
    switch (type) {
      case 0x2b: // + simple string
        return this.line();
      case 0x2d: {
        // - error
        const s = this.line();
        return s === INCOMPLETE ? s : new RedisReplyError(s);
      }
      case 0x3a: {
        // : integer
        const s = this.line();
        return s === INCOMPLETE ? s : this.int(s);
      }
      case 0x24: {
        // $ bulk string
        const s = this.line();
        if (s === INCOMPLETE) return s;
        const n = this.int(s);
        if (n < 0) return null;
        const end = this.pos + n;
        if (end + 2 > buf.length) {
          this.wanted = Math.max(this.wanted, end + 2);
          return INCOMPLETE;
        }
        if (buf[end] !== 0x0d || buf[end + 1] !== 0x0a)
          throw new RespProtocolError('Protocol error, bulk string not terminated by CRLF');
        const v = buf.toString('utf8', this.pos, end);
        this.pos = end + 2;
        return v;
      }
      case 0x2a: {
        // * array
        const s = this.line();
        if (s === INCOMPLETE) return s;
        const n = this.int(s);
        if (n < 0) return null;
        if (depth >= MAX_DEPTH) throw new RespProtocolError('Protocol error, arrays nested too deep');
        this.elements += n;
        if (this.elements > MAX_ELEMENTS)
          throw new RespProtocolError(`Protocol error, more than ${MAX_ELEMENTS} elements in a reply`);
        const items: RespValue[] = [];
        for (let i = 0; i < n; i++) {
          const v = this.value(depth + 1);
          if (v === INCOMPLETE) return v;
          items.push(v);
        }
        return items;
      }
      default:
        throw new RespProtocolError(
          `Protocol error, got ${JSON.stringify(String.fromCharCode(type))} as reply type byte`,
        );
    }
  }
}
