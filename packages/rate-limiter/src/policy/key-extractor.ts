import type { IncomingMessage } from 'node:http';
import type { KeyPart } from './key-spec.js';

/** Reads one key from a request; undefined when a part is missing. */
export type KeyExtractor = (req: IncomingMessage, clientIp: string) => string | undefined;

/** Keys longer than this are cut to stay cheap as Map and Redis keys (with their length kept). */
const MAX_PART = 256;

export function keyExtractor(parts: readonly KeyPart[]): KeyExtractor {
  const readers = parts.map(partReader);
  if (readers.length === 1) return readers[0]!;
  return (req, ip) => {
    let key = '';
    for (let i = 0; i < readers.length; i++) {
      const v = readers[i]!(req, ip);
      if (v === undefined) return undefined;
      key = i === 0 ? v : `${key}|${v}`;
    }
    return key;
  };
}

function partReader(p: KeyPart): KeyExtractor {
  switch (p.kind) {
    case 'ip':
      return (_req, ip) => ip;
    case 'header':
      return (req) => clip(first(req.headers[p.name]));
    case 'cookie':
      return (req) => clip(cookieValue(req.headers.cookie, p.name));
    case 'jwt':
      return (req) => {
        const raw = first(req.headers[p.header]);
        if (raw === undefined) return undefined;
        const token = p.header === 'authorization' ? bearer(raw) : raw.trim();
        return token === undefined ? undefined : clip(jwtClaim(token, p.claim));
      };
  }
}

function first(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

function clip(v: string | undefined): string | undefined {
  return v === undefined || v.length <= MAX_PART ? v : `${v.slice(0, MAX_PART)}~${v.length}`;
}

function bearer(v: string): string | undefined {
  return /^bearer\s+/i.test(v) ? v.replace(/^bearer\s+/i, '').trim() : undefined;
}

/** Value of one cookie from a Cookie header (RFC 6265 `a=1; b=2`), quotes removed. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let at = 0;
  while (at < header.length) {
    const semi = header.indexOf(';', at);
    const end = semi < 0 ? header.length : semi;
    const eq = header.indexOf('=', at);
    if (eq > 0 && eq < end && header.slice(at, eq).trim() === name) {
      const v = header.slice(eq + 1, end).trim();
      const unq = v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"' ? v.slice(1, -1) : v;
      return unq === '' ? undefined : unq;
    }
    at = end + 1;
  }
  return undefined;
}

/**
 * A claim of a JWT's payload, decoded but NOT verified: the limiter only needs a stable name
 * for the caller's bucket, and a forged token only moves the forger into another bucket.
 */
export function jwtClaim(token: string, path: readonly string[]): string | undefined {
  const a = token.indexOf('.');
  const b = a < 0 ? -1 : token.indexOf('.', a + 1);
  if (b < 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(token.slice(a + 1, b), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
