import { describe, expect, it } from 'vitest';
import type { Verdict } from '../limiter/verdict.js';
import { compilePolicy } from '../policy/compile.js';
import { zPolicy } from '../policy/schema.js';
import { pushRateLimitHeaders, quotaItem } from './ratelimit-headers.js';
import { retryAfterSeconds } from './responses.js';

describe('RateLimit headers', () => {
  it('renders RateLimit-Policy items in structured-field syntax', () => {
    expect(quotaItem('per-ip', { count: 100, periodMs: 1000 })).toBe('"per-ip";q=100;w=1');
    expect(quotaItem('hourly', { count: 1000, periodMs: 3_600_000 })).toBe('"hourly";q=1000;w=3600');
    expect(quotaItem('fast', { count: 50, periodMs: 500 })).toBe('"fast";q=100;w=1');
  });

  it('renders one item per limit, and Retry-After from the longest enforced wait', () => {
    const p = compilePolicy(
      zPolicy.parse({ name: 'per-ip', limits: [{ rate: '100/s' }, { rate: '1000/h' }] }),
    );
    const v: Verdict = {
      admitted: false,
      checks: p.limits.map((limit) => ({ policy: p, limit, key: 'k', enforced: true })),
      results: [
        { allowed: true, remaining: 7, resetMs: 80, retryMs: 0 },
        { allowed: false, remaining: 0, resetMs: 3_600_000, retryMs: 3_600 },
      ],
      unavailable: false,
    };
    const h: string[] = [];
    pushRateLimitHeaders(h, v.checks, v.results);
    expect(h).toEqual([
      'ratelimit-policy',
      '"per-ip";q=100;w=1, "per-ip-2";q=1000;w=3600',
      'ratelimit',
      '"per-ip";r=7;t=1, "per-ip-2";r=0;t=4',
    ]);
    expect(retryAfterSeconds(v)).toBe(4);
    const refusing: string[] = [];
    pushRateLimitHeaders(refusing, v.checks, v.results, true);
    expect(refusing).toEqual([
      'ratelimit-policy',
      '"per-ip-2";q=1000;w=3600',
      'ratelimit',
      '"per-ip-2";r=0;t=4',
    ]);
    expect(retryAfterSeconds({ ...v, results: [v.results[0]!, { ...v.results[1]!, retryMs: 20 }] })).toBe(1);
  });
});
