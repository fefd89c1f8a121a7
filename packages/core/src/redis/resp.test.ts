import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, RedisReplyError, RespDecoder, RespProtocolError, type RespValue } from './resp.js';

/** What a server writes for a value (the test's own encoder: RESP2 as redis-server sends it). */
function wire(v: RespValue): string {
  if (v === null) return '$-1\r\n';
  if (typeof v === 'number') return `:${v}\r\n`;
  if (v instanceof RedisReplyError) return `-${v.message}\r\n`;
  if (Array.isArray(v)) return `*${v.length}\r\n${v.map(wire).join('')}`;
  return `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
}

/** The same value as the decoder gives it back (errors compared by message). */
const plain = (v: RespValue): unknown =>
  v instanceof RedisReplyError ? { error: v.message } : Array.isArray(v) ? v.map(plain) : v;

const lineText = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
const value: fc.Arbitrary<RespValue> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 40, unit: 'binary' }),
    fc.integer(),
    fc.constant(null),
    lineText.map((m) => new RedisReplyError(m)),
    fc.array(tie('v'), { maxLength: 5 }),
  ),
})).v as fc.Arbitrary<RespValue>;

/** Feeds the bytes in pieces cut at the given points. */
function decodeInPieces(bytes: Buffer, cuts: number[]): RespValue[] {
  const d = new RespDecoder();
  const out: RespValue[] = [];
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b)) {
    out.push(...d.push(bytes.subarray(at, c)));
    at = c;
  }
  out.push(...d.push(bytes.subarray(at)));
  expect(d.pending).toBe(0);
  return out;
}

describe('RESP2 codec', () => {
  it('encodes a command as an array of bulk strings, lengths in bytes', () => {
    expect(encodeCommand(['PING']).toString()).toBe('*1\r\n$4\r\nPING\r\n');
    expect(encodeCommand(['SET', 'k', 'é']).toString()).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n');
    expect(encodeCommand(['ECHO', '']).toString()).toBe('*2\r\n$4\r\nECHO\r\n$0\r\n\r\n');
    // bytes as they are, beside strings: the same encoding
    const bin = Buffer.from([0, 13, 10, 255]);
    expect(
      encodeCommand([Buffer.from('SET'), 'k', bin]).equals(
        Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n'), bin, Buffer.from('\r\n')]),
      ),
    ).toBe(true);
  });

  it('decodes known replies: status, error, integer, bulk, null, nested arrays', () => {
    const d = new RespDecoder();
    const got = d.push(
      Buffer.from(
        '+PONG\r\n-WRONGPASS invalid username-password pair\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*2\r\n*1\r\n:1\r\n$0\r\n\r\n',
      ),
    );
    expect(got.map(plain)).toEqual([
      'PONG',
      { error: 'WRONGPASS invalid username-password pair' },
      -42,
      'hello',
      null,
      null,
      [[1], ''],
    ]);
  });

  it('decodes any reply however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (vs, cuts) => {
          const bytes = Buffer.from(vs.map(wire).join(''), 'utf8');
          expect(decodeInPieces(bytes, cuts).map(plain)).toEqual(vs.map(plain));
        },
      ),
    );
  });

  it('waits for a bulk string of its declared length without parsing again per read', () => {
    const d = new RespDecoder();
    expect(d.push(Buffer.from('$10\r\nabc'))).toEqual([]);
    expect(d.awaiting).toBe(17);
    expect(d.push(Buffer.from('defg'))).toEqual([]);
    expect(d.push(Buffer.from('hij\r\n+OK'))).toEqual(['abcdefghij']);
    expect(d.pending).toBe(3);
    expect(d.push(Buffer.from('\r\n'))).toEqual(['OK']);
  });

  it('refuses what is not RESP2 with a protocol error, never anything else', () => {
    expect(() => new RespDecoder().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(
      new RespProtocolError('Protocol error, got "H" as reply type byte'),
    );
    expect(() => new RespDecoder().push(Buffer.from('$3\r\nabcXY'))).toThrow(/not terminated by CRLF/);
    expect(() => new RespDecoder().push(Buffer.from(':12a\r\n'))).toThrow(/bad length or integer/);
    expect(() => new RespDecoder().push(Buffer.from(`${'*1\r\n'.repeat(40)}:1\r\n`))).toThrow(
      /nested too deep/,
    );
    expect(() => new RespDecoder().push(Buffer.from('*200000\r\n'))).toThrow(/more than 100000 elements/);
    expect(() => new RespDecoder().push(Buffer.from(`+${'x'.repeat(70_000)}`))).toThrow(/line too long/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
        const d = new RespDecoder();
        const buf = Buffer.from(bytes);
        try {
          let at = 0;
          for (const c of cuts.map((x) => x % (buf.length + 1)).sort((a, b) => a - b)) {
            d.push(buf.subarray(at, c));
            at = c;
          }
          d.push(buf.subarray(at));
        } catch (err) {
          expect(err).toBeInstanceOf(RespProtocolError);
        }
      }),
    );
  });
});
