import { isToken } from '@dds/core/http/field-syntax';
import { type KeySource, keySourceName, parseKeySource } from '@dds/core/http/key-source';

/**
 * One part of a rate-limit key: core's key sources (the client IP, a request header such as an
 * API key, a cookie) or a JWT claim (verified when a JWT key source is configured, see
 * jwt-verifier.ts).
 *   ip | header:NAME | cookie:NAME | jwt:CLAIM | jwt:CLAIM@HEADER   (CLAIM may be a.b.c)
 */
export type KeyPart = KeySource | { kind: 'jwt'; claim: string[]; header: string };

const SYNTAX = 'ip, header:NAME, cookie:NAME or jwt:CLAIM';

export function parseKeyPart(text: string): KeyPart | string {
  const t = text.trim();
  if (!t.startsWith('jwt:') && t !== 'jwt') return parseKeySource(t, SYNTAX);
  const [claim, header = 'authorization'] = t.slice(4).trim().split('@');
  if (!claim) return `"${t}" needs a claim (jwt:sub or jwt:sub@x-token)`;
  if (claim.includes('=')) return `"${claim}" is not a claim name`;
  if (!isToken(header)) return `"${header}" is not a header name`;
  return { kind: 'jwt', claim: claim.split('.'), header: header.toLowerCase() };
}

/** The canonical name of a part, as allow-list and override entries name it (`header:x-api-key`). */
export function partName(p: KeyPart): string {
  if (p.kind !== 'jwt') return keySourceName(p);
  return `jwt:${p.claim.join('.')}${p.header === 'authorization' ? '' : `@${p.header}`}`;
}
