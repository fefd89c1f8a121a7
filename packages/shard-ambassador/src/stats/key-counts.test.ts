import fc from 'fast-check';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { HotKeys } from './hot-keys.js';
import { KEY_PREFIX, KeyCounts } from './key-counts.js';

/** What KeyCounts should hold: a Map by pool and key prefix, new keys refused once full. */
function model(ops: { pool: number; key: Uint8Array }[], maxKeys: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const { pool, key } of ops) {
    const id = `${pool}/${Buffer.from(key.subarray(0, KEY_PREFIX)).toString('latin1')}`;
    const n = m.get(id);
    if (n !== undefined) m.set(id, n + 1);
    else if (m.size < maxKeys) m.set(id, 1);
  }
  return m;
}

describe('KeyCounts (property test against a Map)', () => {
  it('counts every (pool, key prefix) exactly, up to maxKeys distinct keys', () => {
    // few distinct bytes and short keys: many repeats and hash-equal neighbours
    const key = fc.oneof(
      fc.uint8Array({ maxLength: 6 }).map((u) => u.map((b) => b % 4)),
      fc
        .uint8Array({ minLength: KEY_PREFIX - 2, maxLength: KEY_PREFIX + 40 })
        .map((u) => u.map((b) => b % 2)),
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ pool: fc.integer({ min: 0, max: 2 }), key }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        (ops, maxKeys) => {
          const t = new KeyCounts(maxKeys);
          for (const { pool, key: k } of ops) {
            // the key sits inside a larger buffer, as in a read buffer
            const buf = Buffer.concat([Buffer.from([7, 7]), Buffer.from(k), Buffer.from([9])]);
            t.add(pool, buf, 2, 2 + k.length);
          }
          const got = new Map<string, number>();
          t.forEach((pool, k, n) => {
            got.set(`${pool}/${k}`, n);
          });
          expect(got).toEqual(model(ops, maxKeys));
          expect(t.length).toBe(got.size);
          t.clear();
          let left = 0;
          t.forEach(() => {
            left++;
          });
          expect(left).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('HotKeys', () => {
  it('ranks keys by sampled hits per pool and forgets them after the window', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const hot = new HotKeys(2, 600, 1);
    const k = (s: string) => Buffer.from(s);
    for (let i = 0; i < 5; i++) hot.record('a', k('x'), 0, 1);
    for (let i = 0; i < 3; i++) hot.record('b', k('x'), 0, 1);
    hot.record('a', k('y'), 0, 1);
    expect(hot.list().map((h) => [h.pool, h.key, h.hits])).toEqual([
      ['a', 'x', 5],
      ['b', 'x', 3],
    ]);
    vi.advanceTimersByTime(500);
    expect(hot.list().map((h) => h.key)).toEqual(['x', 'x']);
    vi.advanceTimersByTime(150);
    expect(hot.list()).toEqual([]);
  });

  it('keeps UTF-8 keys readable and counts nothing when disabled', () => {
    const hot = new HotKeys(3, 60_000, 1);
    const key = Buffer.from('clé:🔑');
    hot.record('p', key, 0, key.length);
    expect(hot.list()[0]).toMatchObject({ pool: 'p', key: 'clé:🔑', hits: 1 });
    const off = new HotKeys(0, 60_000, 1);
    off.record('p', key, 0, key.length);
    expect(off.list()).toEqual([]);
  });
});
