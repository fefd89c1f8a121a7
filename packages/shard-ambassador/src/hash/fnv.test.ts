import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signedByte } from './bytes.js';
import { fnv1_32, fnv1_64, fnv1a_32, fnv1a_64 } from './fnv.js';

// twemproxy's definitions in unsigned 32-bit steps, as this code had them before the int32 loop
const fnv1 = (init: number, prime: number) => (buf: Buffer, start: number, end: number) => {
  let h = init;
  for (let i = start; i < end; i++) h = (Math.imul(h, prime) ^ signedByte(buf[i]!)) >>> 0;
  return h >>> 0;
};
const fnv1a = (init: number, prime: number) => (buf: Buffer, start: number, end: number) => {
  let h = init;
  for (let i = start; i < end; i++) h = Math.imul(h ^ signedByte(buf[i]!), prime) >>> 0;
  return h >>> 0;
};

describe('FNV hashes (property test against the unsigned formulation)', () => {
  it('give the same 32-bit values for any bytes, including >= 0x80', () => {
    const pairs = [
      [fnv1_64, fnv1(0x84222325, 0x1b3)],
      [fnv1a_64, fnv1a(0x84222325, 0x1b3)],
      [fnv1_32, fnv1(0x811c9dc5, 0x01000193)],
      [fnv1a_32, fnv1a(0x811c9dc5, 0x01000193)],
    ] as const;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (u, cut) => {
        const buf = Buffer.from(u);
        const start = u.length ? cut % u.length : 0;
        for (const [ours, want] of pairs) {
          const h = ours(buf, start, buf.length);
          expect(h).toBe(want(buf, start, buf.length));
          expect(h).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 500 },
    );
    expect(fnv1a_64(Buffer.from('foo'), 0, 3)).toBe(fnv1a(0x84222325, 0x1b3)(Buffer.from('foo'), 0, 3));
  });
});
