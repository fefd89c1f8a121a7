import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, didYouMean } from './did-you-mean.js';

const known = ['listen', 'drain-timeout', 'admin', 'upstream', 'redis-password-file', 'log-level'];

describe('closest', () => {
  it('finds a typo, a swapped pair, a missing or extra letter, ignoring case, - and _', () => {
    expect(closest('listn', known)).toBe('listen');
    expect(closest('lisetn', known)).toBe('listen');
    expect(closest('upstreamm', known)).toBe('upstream');
    expect(closest('DRAIN_TIMEOUT', known)).toBe('drain-timeout');
    expect(closest('draintimout', known)).toBe('drain-timeout');
    expect(closest('redis-pasword-file', known)).toBe('redis-password-file');
  });

  it('proposes nothing when no name is close', () => {
    expect(closest('zzzzzz', known)).toBeUndefined();
    expect(closest('x', known)).toBeUndefined();
    expect(closest('', known)).toBeUndefined();
    expect(closest('anything', [])).toBeUndefined();
  });

  it('formats the hint', () => {
    expect(didYouMean('admn', known)).toBe(' (did you mean "admin"?)');
    expect(didYouMean('admn', known, (s) => `--${s}`)).toBe(' (did you mean --admin?)');
    expect(didYouMean('qqqq', known)).toBe('');
  });

  it('always finds a known name itself, and only ever proposes a known name', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (names, i) => {
          const name = names[i % names.length]!;
          const found = closest(name, names);
          expect(found).toBeDefined();
          expect(names).toContain(found);
        },
      ),
    );
  });
});
