import type { Duplex } from 'node:stream';
import { socketReply } from '@dds/core/http/http-proxy';
import type { Verdict } from '../limiter/verdict.js';
import { pushRateLimitHeaders, seconds } from './ratelimit-headers.js';

const LIMITED = 'Too Many Requests\n';
const UNAVAILABLE = 'rate limiter unavailable\n';

/** An answer of the limiter's own (content-length is added by the proxy's reply). */
export interface Answer {
  status: number;
  headers: string[];
  body: string;
}

/** Retry-After in whole seconds: the longest wait among the enforced limits that refused. */
export function retryAfterSeconds(v: Verdict): number {
  let ms = 0;
  for (let i = 0; i < v.results.length; i++) {
    const r = v.results[i]!;
    if (!r.allowed && v.checks[i]!.enforced && r.retryMs > ms) ms = r.retryMs;
  }
  return Math.max(1, Number.isFinite(ms) ? seconds(ms) : 1);
}

/** 429 with Retry-After and, unless turned off, the RateLimit-Policy / RateLimit fields. */
export function limitedAnswer(v: Verdict, headers: boolean): Answer {
  const h = ['content-type', 'text/plain; charset=utf-8', 'retry-after', String(retryAfterSeconds(v))];
  if (headers) pushRateLimitHeaders(h, v.checks, v.results, true);
  return { status: 429, headers: h, body: LIMITED };
}

/** 503 when Redis is unreachable and --fail-mode is closed. */
export function unavailableAnswer(): Answer {
  return {
    status: 503,
    headers: ['content-type', 'text/plain; charset=utf-8', 'retry-after', '1'],
    body: UNAVAILABLE,
  };
}

/** The same answers on a raw socket, for refused Upgrade (WebSocket) requests. */
export function refuseUpgrade(socket: Duplex, v: Verdict, headers: boolean): void {
  const a = v.unavailable ? unavailableAnswer() : limitedAnswer(v, headers);
  socketReply(socket, a.status, a.headers, a.body);
}
