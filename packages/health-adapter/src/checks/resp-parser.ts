import { CheckFailure } from './probe.js';

/** A RESP2 reply: simple string, error, integer, bulk string (null as null) or array. */
export type RespValue = string | number | null | RespError | RespValue[];

export class RespError {
  constructor(readonly message: string) {}
}

const CR = 13;
const MAX_DEPTH = 8;

/**
 * Parses one RESP2 reply from the front of buf. Returns undefined while it is incomplete and
 * throws a protocol CheckFailure on anything that is not RESP (a health check talks to whatever
 * listens on the port, so garbage must be expected).
 */
export function parseResp(buf: Buffer): { value: RespValue; used: number } | undefined {
  return parseAt(buf, 0, 0);
}

function parseAt(buf: Buffer, at: number, depth: number): { value: RespValue; used: number } | undefined {
  if (at >= buf.length) return undefined;
  const eol = buf.indexOf(CR, at);
  if (eol < 0) {
    if (buf.length - at > 64 * 1024) garbage('line without CRLF');
    return undefined;
  }
  if (eol + 1 >= buf.length) return undefined;
  if (buf[eol + 1] !== 10) garbage('CR not followed by LF');
  const line = buf.toString('latin1', at + 1, eol);
  const next = eol + 2;
  switch (buf[at]) {
    case 0x2b: // +
      return { value: line, used: next };
    case 0x2d: // -
      return { value: new RespError(line), used: next };
    case 0x3a: // :
      return { value: integer(line), used: next };
    case 0x24: {
      // $
      const len = integer(line);
      if (len === -1) return { value: null, used: next };
      if (len < 0) garbage(`bulk length ${len}`);
      if (buf.length < next + len + 2) return undefined;
      if (buf[next + len] !== CR || buf[next + len + 1] !== 10) garbage('bulk string not ended by CRLF');
      return { value: buf.toString('utf8', next, next + len), used: next + len + 2 };
    }
    case 0x2a: {
      // *
      const n = integer(line);
      if (n === -1) return { value: null, used: next };
      if (n < 0) garbage(`array length ${n}`);
      if (depth >= MAX_DEPTH) garbage('arrays nested too deep');
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parseAt(buf, pos, depth + 1);
        if (!r) return undefined;
        items.push(r.value);
        pos = r.used;
      }
      return { value: items, used: pos };
    }
    default:
      garbage(`unexpected byte 0x${buf[at]!.toString(16).padStart(2, '0')}`);
  }
}

function integer(s: string): number {
  if (!/^-?\d{1,18}$/.test(s)) garbage(`not an integer: ${JSON.stringify(s.slice(0, 40))}`);
  return Number(s);
}

function garbage(what: string): never {
  throw new CheckFailure('protocol', `not a Redis reply (${what})`);
}

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(...args: string[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s);
}
