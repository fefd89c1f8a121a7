import type { IncomingHttpHeaders } from 'node:http';
import * as z from '../config/zod.js';
import { cookieValue } from './cookie.js';
import { isToken } from './field-syntax.js';
import type { TrustedProxies } from './trusted-proxies.js';

/**
 * Where a per-request key comes from, in the syntax every component shares:
 *   ip | header:NAME | cookie:NAME
 * (experiment-splitter's user key, rate-limiter's key parts, shard-ambassador's shard key).
 * Components add their own kinds around it (rate-limiter's jwt:, shard-ambassador's uri, path
 * and query:) and parse those first.
 */
export type KeySource =
  | { readonly kind: 'ip' }
  /** name lower-cased */
  | { readonly kind: 'header'; readonly name: string }
  /** name as given (cookie names are case-sensitive) */
  | { readonly kind: 'cookie'; readonly name: string };

/** The request fields a key is read from. */
export interface KeyedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

export const KEY_SOURCE_SYNTAX = 'ip, header:NAME or cookie:NAME';

/**
 * Parses one key source; a string is the error, naming what is wrong. `expected` lists the
 * syntax in the unknown-kind error (a component that adds kinds lists them too).
 */
export function parseKeySource(text: string, expected = KEY_SOURCE_SYNTAX): KeySource | string {
  const t = text.trim();
  if (t === 'ip') return { kind: 'ip' };
  const colon = t.indexOf(':');
  const kind = colon < 0 ? t : t.slice(0, colon);
  if (kind !== 'header' && kind !== 'cookie') return `unknown key "${t}": expected ${expected}`;
  const name = t.slice(colon + 1).trim();
  if (colon < 0 || name === '') return `"${t}" needs a name (${kind}:NAME)`;
  if (!isToken(name)) return `"${name}" is not a ${kind} name`;
  return kind === 'header' ? { kind, name: name.toLowerCase() } : { kind, name };
}

/** The canonical spelling of a source (`header:x-api-key`), as entries and labels name it. */
export function keySourceName(src: KeySource): string {
  return src.kind === 'ip' ? 'ip' : `${src.kind}:${src.name}`;
}

/** A config string that must be a key source; the issue is parseKeySource's error. */
export const zKeySource = z.string().check(
  z.superRefine((s, ctx) => {
    const r = parseKeySource(s);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  }),
);

/**
 * A header's value as a key: the first (node:http joins most repeated headers into one value);
 * empty is missing.
 */
export function headerKey(headers: IncomingHttpHeaders, lower: string): string | undefined {
  const v = headers[lower];
  const s = typeof v === 'string' ? v : v?.[0];
  return s === '' ? undefined : s;
}

/**
 * The key a source reads from a request, or undefined when the request has none (empty is
 * none): the client address (X-Forwarded-For only from trusted proxies), a header (headerKey) or a cookie
 * (cookieValue's semantics).
 */
export function readKeySource(
  req: KeyedRequest,
  src: KeySource,
  trusted: TrustedProxies,
): string | undefined {
  switch (src.kind) {
    case 'ip':
      return (
        trusted.clientAddress(
          req.socket.remoteAddress ?? '',
          trusted.empty ? undefined : req.headers['x-forwarded-for'],
        ) || undefined
      );
    case 'header':
      return headerKey(req.headers, src.name);
    case 'cookie':
      return cookieValue(req.headers.cookie, src.name);
  }
}
