import type { IncomingMessage } from 'node:http';
import type { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { cookieValue } from './cookie.js';

/** Where a request's user key comes from: `cookie:NAME`, `header:NAME` or `ip`. */
export interface KeySource {
  kind: 'cookie' | 'header' | 'ip';
  /** cookie name as given, or lower-cased header name */
  name: string;
}

export function parseKeySource(s: string): KeySource {
  if (s === 'ip') return { kind: 'ip', name: '' };
  const colon = s.indexOf(':');
  const kind = s.slice(0, colon);
  const name = s.slice(colon + 1);
  return kind === 'cookie' ? { kind, name } : { kind: 'header', name: name.toLowerCase() };
}

/** Longest key hashed as given; longer ones are cut (they still hash stably). */
const MAX_KEY = 512;

/** The request's user key, or undefined when the request carries none. */
export function userKey(req: IncomingMessage, src: KeySource, trusted: TrustedProxies): string | undefined {
  let v: string | undefined;
  if (src.kind === 'cookie') v = cookieValue(req.headers.cookie, src.name);
  else if (src.kind === 'header') {
    const h = req.headers[src.name];
    v = typeof h === 'string' ? h : h?.[0];
  } else v = trusted.clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for']);
  if (!v) return undefined;
  return v.length > MAX_KEY ? v.slice(0, MAX_KEY) : v;
}
