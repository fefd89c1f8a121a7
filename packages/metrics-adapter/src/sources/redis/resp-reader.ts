/** An error reply (`-ERR ...`) from Redis; returned as a value, since one failing command of a pipeline is not fatal. */
export class RespError {
  constructor(readonly message: string) {}
}

export type RespValue = string | number | null | RespError | RespValue[];

export class RespProtocolError extends Error {}

const MAX_DEPTH = 8;
const CR = 13;

/** Result of a parse attempt: the value and where it ended, or how many bytes are needed at least. */
type Parsed = { value: RespValue; end: number } | { need: number };

function lineEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf(CR, from);
  if (i < 0 || i + 1 >= buf.length) return -1;
  if (buf[i + 1] !== 10) throw new RespProtocolError(`expected LF after CR at byte ${i + 1}`);
  return i;
}

function parseInteger(buf: Buffer, from: number, to: number): number {
  const text = buf.toString('latin1', from, to);
  if (!/^-?\d{1,18}$/.test(text))
    throw new RespProtocolError(`invalid length or integer "${text.slice(0, 40)}"`);
  return Number(text);
}

function parse(buf: Buffer, pos: number, depth: number, maxBulk: number): Parsed {
  if (pos >= buf.length) return { need: pos + 1 };
  const type = buf[pos]!;
  const eol = lineEnd(buf, pos + 1);
  if (eol < 0) return { need: buf.length + 1 };
  switch (type) {
    case 0x2b: // + simple string
      return { value: buf.toString('utf8', pos + 1, eol), end: eol + 2 };
    case 0x2d: // - error
      return { value: new RespError(buf.toString('utf8', pos + 1, eol)), end: eol + 2 };
    case 0x3a: // : integer
      return { value: parseInteger(buf, pos + 1, eol), end: eol + 2 };
    case 0x24: {
      // $ bulk string
      const len = parseInteger(buf, pos + 1, eol);
      if (len === -1) return { value: null, end: eol + 2 };
      if (len < 0 || len > maxBulk) throw new RespProtocolError(`bulk length ${len} out of range`);
      const start = eol + 2;
      if (buf.length < start + len + 2) return { need: start + len + 2 };
      if (buf[start + len] !== CR || buf[start + len + 1] !== 10)
        throw new RespProtocolError('bulk string not terminated by CRLF');
      return { value: buf.toString('utf8', start, start + len), end: start + len + 2 };
    }
    case 0x2a: {
      // * array
      const count = parseInteger(buf, pos + 1, eol);
      if (count === -1) return { value: null, end: eol + 2 };
      if (count < 0 || count > maxBulk) throw new RespProtocolError(`array length ${count} out of range`);
      if (depth >= MAX_DEPTH) throw new RespProtocolError(`arrays nested deeper than ${MAX_DEPTH}`);
      const items: RespValue[] = [];
      let at = eol + 2;
      for (let i = 0; i < count; i++) {
        const r = parse(buf, at, depth + 1, maxBulk);
        if ('need' in r) return r;
        items.push(r.value);
        at = r.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new RespProtocolError(`unexpected type byte 0x${type.toString(16).padStart(2, '0')}`);
  }
}

/**
 * Incremental RESP2 reader for a known number of pipelined replies. Chunks are only joined
 * when enough bytes for the pending reply have arrived, so a large INFO reply costs one copy.
 */
export class RespReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private need = 1;
  private readonly replies: RespValue[] = [];

  constructor(
    private readonly expected: number,
    private readonly maxBulk = 64 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): RespValue[] | undefined {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < this.need) return undefined;
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    let pos = 0;
    while (this.replies.length < this.expected) {
      const r = parse(buf, pos, 0, this.maxBulk);
      if ('need' in r) {
        buf = buf.subarray(pos);
        this.need = r.need - pos;
        this.chunks = [buf];
        this.size = buf.length;
        return undefined;
      }
      this.replies.push(r.value);
      pos = r.end;
    }
    if (pos !== buf.length)
      throw new RespProtocolError(`${buf.length - pos} unexpected bytes after the last reply`);
    return this.replies;
  }
}

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}
