import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, RespError, RespProtocolError, RespReader, type RespValue } from './resp-reader.js';

function feed(reader: RespReader, bytes: Buffer, cuts: number[]): RespValue[] | undefined {
  let last = 0;
  let out: RespValue[] | undefined;
  for (const c of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    if (c === last) continue;
    out = reader.push(bytes.subarray(last, c));
    last = c;
  }
  return out;
}

function encode(v: RespValue): string {
  if (v === null) return '$-1\r\n';
  if (typeof v === 'number') return `:${v}\r\n`;
  if (typeof v === 'string') return `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  if (v instanceof RespError) return `-${v.message}\r\n`;
  return `*${v.length}\r\n${v.map(encode).join('')}`;
}

describe('RespReader', () => {
  it('reads pipelined replies of every RESP2 type', () => {
    const r = new RespReader(6);
    const out = r.push(
      Buffer.from('+OK\r\n-WRONGPASS invalid\r\n:42\r\n$5\r\nhello\r\n*2\r\n$1\r\na\r\n$-1\r\n*-1\r\n'),
    );
    expect(out).toEqual(['OK', new RespError('WRONGPASS invalid'), 42, 'hello', ['a', null], null]);
  });

  it('encodes commands as arrays of bulk strings', () => {
    expect(encodeCommand(['INFO', 'ALL'])).toBe('*2\r\n$4\r\nINFO\r\n$3\r\nALL\r\n');
    expect(encodeCommand(['AUTH', 'pä'])).toBe('*2\r\n$4\r\nAUTH\r\n$3\r\npä\r\n');
  });

  it('rejects garbage with a protocol error', () => {
    expect(() => new RespReader(1).push(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(
      RespProtocolError,
    );
    expect(() => new RespReader(1).push(Buffer.from('$abc\r\n'))).toThrow(/invalid length/);
    expect(() => new RespReader(1).push(Buffer.from('$3\r\nabcdef\r\n'))).toThrow(/not terminated/);
    expect(() => new RespReader(1).push(Buffer.from('$99999\r\n'))).not.toThrow();
    expect(() => new RespReader(1, 1000).push(Buffer.from('$99999\r\n'))).toThrow(/out of range/);
    expect(() => new RespReader(1).push(Buffer.from('+OK\r\n+extra\r\n'))).toThrow(/unexpected bytes/);
    expect(() => new RespReader(1).push(Buffer.from(`${'*1\r\n'.repeat(20)}:1\r\n`))).toThrow(/nested/);
  });

  it('gives the same replies however the bytes are split (property)', () => {
    const value: fc.Arbitrary<RespValue> = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: 'grapheme' }),
        fc.integer(),
        fc.constant(null),
        fc.stringMatching(/^[A-Z]+ [a-z ]*$/).map((m) => new RespError(m)),
        fc.array(tie('v') as fc.Arbitrary<RespValue>, { maxLength: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(400)), (values, cuts) => {
        const bytes = Buffer.from(values.map(encode).join(''));
        expect(feed(new RespReader(values.length), bytes, cuts)).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('never crashes on arbitrary bytes: a value, undefined (incomplete) or a RespProtocolError (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300)), (bytes, cuts) => {
        try {
          feed(new RespReader(2, 10_000), Buffer.from(bytes), cuts);
        } catch (err) {
          expect(err).toBeInstanceOf(RespProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
