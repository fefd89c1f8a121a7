import type { LimitResult } from '../limiter/verdict.js';
import type { Check } from '../policy/compile.js';
import type { Rate } from '../policy/rate.js';

/**
 * RateLimit-Policy and RateLimit fields in the structured-field syntax of the IETF httpapi
 * draft (draft-ietf-httpapi-ratelimit-headers): `"name";q=QUOTA;w=WINDOW_SECONDS` and
 * `"name";r=REMAINING;t=SECONDS_UNTIL_RESET`, one list item per limit.
 */
export function quotaItem(name: string, rate: Rate): string {
  // w is an integer number of seconds: sub-second periods are scaled to one second
  if (rate.periodMs >= 1000 && rate.periodMs % 1000 === 0)
    return `"${name}";q=${Math.floor(rate.count)};w=${rate.periodMs / 1000}`;
  return `"${name}";q=${Math.floor((rate.count * 1000) / rate.periodMs)};w=1`;
}

export const seconds = (ms: number): number => (ms <= 0 ? 0 : Math.ceil(ms / 1000 - 1e-9));

/**
 * Appends the two fields to a flat [name, value, ...] header list. On a refusal only the limits
 * that refused are listed: the others were not consumed, and their state "as if admitted"
 * would mislead.
 */
export function pushRateLimitHeaders(
  out: string[],
  checks: readonly Check[],
  results: readonly LimitResult[],
  onlyRefusing = false,
) {
  let policy = '';
  let state = '';
  for (let i = 0; i < results.length; i++) {
    const c = checks[i]!;
    const r = results[i]!;
    if (onlyRefusing && (r.allowed || !c.enforced)) continue;
    const sep = policy === '' ? '' : ', ';
    policy += sep + c.limit.quota;
    const t = r.allowed ? r.resetMs : Math.max(r.retryMs, 0);
    state += `${sep}"${c.limit.name}";r=${Math.max(0, r.remaining)};t=${seconds(Number.isFinite(t) ? t : 0)}`;
  }
  if (policy) out.push('ratelimit-policy', policy, 'ratelimit', state);
}
