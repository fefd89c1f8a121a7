import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckFailure } from './probe.js';
import { encodeCommand, parseResp, RespError } from './resp-parser.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('parseResp', () => {
  it('parses each RESP2 type and reports the bytes used', () => {
    expect(parseResp(b('+PONG\r\n'))).toEqual({ value: 'PONG', used: 7 });
    expect(parseResp(b(':42\r\nrest'))).toEqual({ value: 42, used: 5 });
    expect(parseResp(b('$-1\r\n'))).toEqual({ value: null, used: 5 });
    expect(parseResp(b('$5\r\nhe\r\no\r\n'))).toEqual({ value: 'he\r\no', used: 11 });
    expect(parseResp(b('*2\r\n$1\r\na\r\n:1\r\n'))).toEqual({ value: ['a', 1], used: 15 });
    const err = parseResp(b('-LOADING Redis is loading the dataset in memory\r\n'));
    expect(err?.value).toBeInstanceOf(RespError);
    expect((err!.value as RespError).message).toBe('LOADING Redis is loading the dataset in memory');
  });

  it('waits for incomplete replies', () => {
    for (const partial of ['', '+PON', '+PONG\r', '$5\r\nhel', '*2\r\n$1\r\na\r\n', ':1']) {
      expect(parseResp(b(partial))).toBeUndefined();
    }
  });

  it('rejects what is not RESP with a protocol failure', () => {
    for (const junk of [
      'HTTP/1.1 400 Bad Request\r\n',
      'VERSION 1.6.21\r\n',
      ':abc\r\n',
      '$-5\r\n',
      '+OK\rX',
      '$3\r\nabcXY',
    ]) {
      let thrown: unknown;
      try {
        parseResp(b(junk));
      } catch (e) {
        thrown = e;
      }
      expect(thrown, junk).toBeInstanceOf(CheckFailure);
      expect((thrown as CheckFailure).reason).toBe('protocol');
    }
  });

  it('refuses arrays nested without end', () => {
    expect(() => parseResp(b('*1\r\n'.repeat(50)))).toThrow(/nested too deep/);
  });

  it('on any bytes: a value, undefined or a protocol CheckFailure, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const r = parseResp(Buffer.from(bytes));
          if (r) expect(r.used).toBeLessThanOrEqual(bytes.length);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckFailure);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same value however the reply is split into chunks', () => {
    const reply = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc
          .string({ unit: 'grapheme-ascii' })
          .filter((s) => !/[\r\n]/.test(s))
          .map((s) => `+${s}\r\n`),
        fc.integer().map((n) => `:${n}\r\n`),
        fc.string().map((s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`),
        fc
          .array(tie('value') as fc.Arbitrary<string>, { maxLength: 4 })
          .map((xs) => `*${xs.length}\r\n${xs.join('')}`),
      ),
    })).value as fc.Arbitrary<string>;
    fc.assert(
      fc.property(reply, fc.nat(), (text, cutSeed) => {
        const whole = Buffer.from(text);
        const full = parseResp(whole);
        expect(full?.used).toBe(whole.length);
        const cut = cutSeed % whole.length;
        // any strict prefix is incomplete, never an error or a wrong value
        expect(parseResp(whole.subarray(0, cut))).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('encodes commands as arrays of bulk strings', () => {
    expect(encodeCommand('AUTH', 'pä').toString()).toBe('*2\r\n$4\r\nAUTH\r\n$3\r\npä\r\n');
  });
});
