import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedStore } from './bounded-store.js';

const expiry = (s: number) => s;

describe('BoundedStore', () => {
  it('never holds more than maxKeys and counts evictions', () => {
    const s = new BoundedStore<number>(3, expiry);
    for (let i = 0; i < 10; i++) s.set(`k${i}`, 1000);
    expect(s.size).toBe(3);
    expect(s.evictions).toBe(7);
  });

  it('keeps recently written keys (second chance) and evicts the cold ones', () => {
    const s = new BoundedStore<number>(3, expiry);
    s.set('a', 1000);
    s.set('b', 1000);
    s.set('c', 1000);
    s.set('d', 1000); // the hand clears every second chance, then evicts a
    s.set('b', 1000); // b is hot again
    s.set('e', 1000); // c (cold) goes, not b
    expect(s.get('b', 0)).toBe(1000);
    expect(s.get('c', 0)).toBeUndefined();
    expect(s.get('a', 0)).toBeUndefined();
    expect(s.size).toBe(3);
  });

  it('expired states read as absent and are swept', () => {
    const s = new BoundedStore<number>(10, expiry);
    s.set('a', 5);
    s.set('b', 50);
    expect(s.get('a', 5)).toBeUndefined();
    expect(s.size).toBe(1);
    s.set('c', 7);
    expect(s.sweep(10, 100)).toBe(1);
    expect(s.get('b', 10)).toBe(50);
  });

  it('behaves as a map for the keys it holds (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 100 })), {
          maxLength: 200,
        }),
        (max, ops) => {
          const s = new BoundedStore<number>(max, () => Number.POSITIVE_INFINITY);
          const model = new Map<string, number>();
          for (const [k, v] of ops) {
            s.set(`k${k}`, v);
            model.set(`k${k}`, v);
            expect(s.size).toBeLessThanOrEqual(max);
            expect(s.get(`k${k}`, 0)).toBe(v);
          }
          for (const [k, v] of model) {
            const got = s.get(k, 0);
            if (got !== undefined) expect(got).toBe(v);
          }
        },
      ),
    );
  });
});
