import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findByte } from './find-byte.js';

describe('findByte (property test)', () => {
  it('finds what a plain scan of [from, end) finds, never beyond end', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (u, a, b, byte) => {
          const from = u.length ? a % (u.length + 1) : 0;
          const end = from + (u.length - from ? b % (u.length - from + 1) : 0);
          let want = -1;
          for (let i = from; i < end; i++)
            if (u[i] === byte) {
              want = i;
              break;
            }
          expect(findByte(u, byte, from, end)).toBe(want);
        },
      ),
      { numRuns: 500 },
    );
  });
});
