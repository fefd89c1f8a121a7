import { createHash } from 'node:crypto';
import { cookieValue } from '@dds/core/http/cookie';
import { headerKey } from '@dds/core/http/key-source';
import type { KeyPart } from './key-spec.js';
import type { PolicyRequest } from './matcher.js';

/** A JWT's payload (claims), verified or merely decoded. */
export type JwtPayload = Readonly<Record<string, unknown>>;

/** What a key is read from besides the request. */
export interface KeyContext {
  /** the client address (X-Forwarded-For only from trusted proxies) */
  ip: string;
  /**
   * Verified JWT payloads by header name, when a JWT key source is configured (undefined: the
   * token failed verification). Absent: tokens are decoded without verification.
   */
  claims?: (header: string) => JwtPayload | undefined;
}

/** The values of a request's key parts, in the policy's order; undefined when a part is missing. */
export type KeyExtractor = (req: PolicyRequest, ctx: KeyContext) => string[] | undefined;

/**
 * Part values longer than this are replaced by a hash, to stay cheap as Map and Redis keys. The
 * hash is of the whole value (two long values that share a prefix never share a bucket) and
 * starts with \u0001, which no header, cookie or accepted claim value contains, so it cannot
 * equal a short value either.
 */
export const MAX_PART = 256;
const HASHED = '\u0001';

export function normalizePart(v: string): string {
  return v.length <= MAX_PART ? v : `${HASHED}${createHash('sha256').update(v).digest('base64url')}`;
}

/**
 * The bucket key of a request: one part as it is, several joined by \u0000, which no part value
 * contains (header values never do, claims with control characters are refused), so different
 * part values always make different keys.
 */
export function joinKey(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : values.join('\u0000');
}

export function keyExtractor(parts: readonly KeyPart[]): KeyExtractor {
  const readers = parts.map(partReader);
  if (readers.length === 1) {
    const only = readers[0]!;
    return (req, ctx) => {
      const v = only(req, ctx);
      return v === undefined ? undefined : [v];
    };
  }
  return (req, ctx) => {
    const out: string[] = new Array(readers.length);
    for (let i = 0; i < readers.length; i++) {
      const v = readers[i]!(req, ctx);
      if (v === undefined) return undefined;
      out[i] = v;
    }
    return out;
  };
}

type PartReader = (req: PolicyRequest, ctx: KeyContext) => string | undefined;

function partReader(p: KeyPart): PartReader {
  switch (p.kind) {
    case 'ip':
      return (_req, ctx) => ctx.ip;
    case 'header':
      return (req) => normalized(headerKey(req.headers, p.name));
    case 'cookie':
      return (req) => normalized(cookieValue(req.headers.cookie, p.name));
    case 'jwt':
      return (req, ctx) => {
        const payload = ctx.claims ? ctx.claims(p.header) : decodeJwt(tokenOf(req, p.header));
        return payload === undefined ? undefined : normalized(claimValue(payload, p.claim));
      };
  }
}

const normalized = (v: string | undefined): string | undefined => (v === undefined ? v : normalizePart(v));

/** The token a jwt: part reads: `Authorization: Bearer <token>`, or the whole value of another header. */
export function tokenOf(req: PolicyRequest, header: string): string | undefined {
  const raw = headerKey(req.headers, header);
  if (raw === undefined) return undefined;
  if (header !== 'authorization') return raw.trim() || undefined;
  return /^bearer\s+/i.test(raw) ? raw.replace(/^bearer\s+/i, '').trim() || undefined : undefined;
}

/**
 * A JWT's payload decoded but NOT verified (no JWT key source configured): it only names the
 * caller's bucket. Anyone can write any claim into such a token, so config refuses allow-list
 * and override entries on unverified claims.
 */
export function decodeJwt(token: string | undefined): JwtPayload | undefined {
  if (token === undefined) return undefined;
  const a = token.indexOf('.');
  const b = a < 0 ? -1 : token.indexOf('.', a + 1);
  if (b < 0) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(token.slice(a + 1, b), 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JwtPayload) : undefined;
  } catch {
    return undefined;
  }
}

/** Control characters: never in a key part (they separate and mark parts, see joinKey). */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A claim (`org.id` walks objects) as a key part: strings, numbers and booleans; empty is missing. */
export function claimValue(payload: JwtPayload, path: readonly string[]): string | undefined {
  let v: unknown = payload;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  if (typeof v === 'string') return v === '' || CONTROL.test(v) ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A claim of a token decoded without verification (see decodeJwt). */
export function jwtClaim(token: string, path: readonly string[]): string | undefined {
  const payload = decodeJwt(token);
  return payload === undefined ? undefined : claimValue(payload, path);
}
