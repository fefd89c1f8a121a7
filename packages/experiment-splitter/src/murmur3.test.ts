import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3, murmur3Bytes } from './murmur3.js';

describe('murmur3 x86_32', () => {
  it('matches the reference test vectors', () => {
    expect(murmur3('', 0)).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3('hello', 0)).toBe(0x248bfa47);
    expect(murmur3('Hello, world!', 1234)).toBe(0xfaf6cdb3);
    expect(murmur3('The quick brown fox jumps over the lazy dog', 0)).toBe(0x2e4ff723);
    expect(murmur3('aaaa', 0x9747b28c)).toBe(0x5a97808a);
    expect(murmur3('abc', 0)).toBe(0xb3dd93fa);
  });

  it('hashes non-ASCII keys by their UTF-8 bytes', () => {
    expect(murmur3('ü', 7)).toBe(murmur3Bytes('\xc3\xbc', 7));
    expect(murmur3('ü', 7)).not.toBe(murmur3('u', 7));
  });

  it('always returns an unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 0, max: 0xffffffff }), (s, seed) => {
        const h = murmur3(s, seed);
        return Number.isInteger(h) && h >= 0 && h <= 0xffffffff && h === murmur3(s, seed);
      }),
    );
  });
});
