import type { Socket } from 'node:net';
import type { ProxyResponse } from '@dds/core/http/proxy-contract';
import type { Verdict } from '../limiter/verdict.js';
import { pushRateLimitHeaders, seconds } from './ratelimit-headers.js';

const LIMITED = 'Too Many Requests\n';
const UNAVAILABLE = 'rate limiter unavailable\n';

/** Retry-After in whole seconds: the longest wait among the enforced limits that refused. */
export function retryAfterSeconds(v: Verdict): number {
  let ms = 0;
  for (let i = 0; i < v.results.length; i++) {
    const r = v.results[i]!;
    if (!r.allowed && v.checks[i]!.enforced && r.retryMs > ms) ms = r.retryMs;
  }
  return Math.max(1, Number.isFinite(ms) ? seconds(ms) : 1);
}

/** 429 with Retry-After and, unless turned off, the RateLimit-Policy / RateLimit fields; returns the body size. */
export function sendLimited(res: ProxyResponse, v: Verdict, headers: boolean, close: boolean): number {
  const h = [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(LIMITED.length),
    'retry-after',
    String(retryAfterSeconds(v)),
  ];
  if (headers) pushRateLimitHeaders(h, v.checks, v.results, true);
  if (close) h.push('connection', 'close');
  res.writeHead(429, h);
  res.end(LIMITED);
  return LIMITED.length;
}

/** 503 when Redis is unreachable and --fail-mode is closed; returns the body size. */
export function sendUnavailable(res: ProxyResponse, close: boolean): number {
  const h = [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(UNAVAILABLE.length),
    'retry-after',
    '1',
  ];
  if (close) h.push('connection', 'close');
  res.writeHead(503, h);
  res.end(UNAVAILABLE);
  return UNAVAILABLE.length;
}

/** The same answers on a raw socket, for refused Upgrade (WebSocket) requests. */
export function refuseUpgrade(socket: Socket, v: Verdict, headers: boolean): void {
  const status = v.unavailable ? '503 Service Unavailable' : '429 Too Many Requests';
  const body = v.unavailable ? UNAVAILABLE : LIMITED;
  const h: string[] = ['retry-after', v.unavailable ? '1' : String(retryAfterSeconds(v))];
  if (headers && !v.unavailable) pushRateLimitHeaders(h, v.checks, v.results, true);
  let head = `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n`;
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
  socket.end(`${head}\r\n${body}`);
}
