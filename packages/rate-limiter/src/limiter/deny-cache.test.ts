import { describe, expect, it } from 'vitest';
import { DenyCache } from './deny-cache.js';

describe('DenyCache', () => {
  it('answers until the retry time, capped by its maximum', () => {
    const c = new DenyCache(1000);
    c.add('a', 0, 250);
    c.add('b', 0, 5000);
    expect(c.get('a', 100)).toBe(150);
    expect(c.get('a', 250)).toBe(0);
    expect(c.get('b', 999)).toBe(1);
    expect(c.get('b', 1000)).toBe(0);
    expect(c.hits).toBe(2);
  });

  it('is off with a zero maximum and stays bounded', () => {
    const off = new DenyCache(0);
    off.add('a', 0, 100);
    expect(off.get('a', 1)).toBe(0);
    const small = new DenyCache(1000, 100);
    for (let i = 0; i < 10_000; i++) small.add(`k${i}`, 0, 500);
    expect(small.size).toBe(100);
  });
});
