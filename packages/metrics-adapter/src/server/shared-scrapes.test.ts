import { describe, expect, it } from 'vitest';
import { MetricSet } from '../exposition/metric-set.js';
import { SharedScrapes } from './shared-scrapes.js';

/** A scrape that finishes when the test says so. */
function pending() {
  let finish!: (set: MetricSet) => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<MetricSet>((res, rej) => {
    finish = res;
    fail = rej;
  });
  return { promise, finish, fail };
}
const setWith = (v: number) => {
  const s = new MetricSet();
  s.gauge('x_up', 'up', v);
  return s;
};
const late = () => setWith(-1);

describe('SharedScrapes', () => {
  it('requests for a target while its scrape runs share it: one scrape, one rendering', async () => {
    const shared = new SharedScrapes();
    const p = pending();
    let started = 0;
    const scrape = () => {
      started++;
      return p.promise;
    };
    const answers = Array.from({ length: 50 }, () => shared.answer('t', 1000, scrape, late));
    expect(started).toBe(1);
    expect(shared.size).toBe(1);
    p.finish(setWith(1));
    const got = await Promise.all(answers);
    expect(new Set(got).size).toBe(1);
    expect(got[0]!.body('text')).toBe(got[49]!.body('text'));
    expect(got[0]!.body('text').toString()).toMatch(/^x_up 1$/m);
    expect(shared.size).toBe(0);
    // the next request after it finished scrapes again
    await shared.answer('t', 1000, () => Promise.resolve(setWith(2)), late);
  });

  it('different targets scrape independently', async () => {
    const shared = new SharedScrapes();
    const a = pending();
    const b = pending();
    const ra = shared.answer('a', 1000, () => a.promise, late);
    const rb = shared.answer('b', 1000, () => b.promise, late);
    expect(shared.size).toBe(2);
    b.finish(setWith(2));
    expect((await rb).body('text').toString()).toMatch(/^x_up 2$/m);
    expect(shared.size).toBe(1);
    a.finish(setWith(1));
    expect((await ra).body('text').toString()).toMatch(/^x_up 1$/m);
  });

  it('a request with an earlier deadline than the running scrape gets late() at its deadline', async () => {
    const shared = new SharedScrapes();
    const p = pending();
    const slow = shared.answer('t', 10_000, () => p.promise, late);
    const hurried = shared.answer('t', 30, () => Promise.reject(new Error('must not start')), late);
    expect((await hurried).body('text').toString()).toMatch(/^x_up -1$/m);
    p.finish(setWith(1));
    expect((await slow).body('text').toString()).toMatch(/^x_up 1$/m);
  });

  it('a joiner whose deadline is later waits for the running scrape, and its failure is shared', async () => {
    const shared = new SharedScrapes();
    const p = pending();
    const first = shared.answer('t', 100, () => p.promise, late);
    const second = shared.answer('t', 10_000, () => Promise.reject(new Error('must not start')), late);
    p.fail(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).rejects.toThrow('boom');
    expect(shared.size).toBe(0);
  });
});
