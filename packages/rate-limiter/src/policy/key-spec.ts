/**
 * One part of a rate-limit key: the client IP, a request header (an API key), a cookie, or a
 * JWT claim (verified when a JWT key source is configured, see jwt-verifier.ts).
 *   ip | header:NAME | cookie:NAME | jwt:CLAIM | jwt:CLAIM@HEADER   (CLAIM may be a.b.c)
 */
export type KeyPart =
  | { kind: 'ip' }
  | { kind: 'header'; name: string }
  | { kind: 'cookie'; name: string }
  | { kind: 'jwt'; claim: string[]; header: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

export function parseKeyPart(text: string): KeyPart | string {
  const t = text.trim();
  if (t === 'ip') return { kind: 'ip' };
  const colon = t.indexOf(':');
  const kind = colon < 0 ? t : t.slice(0, colon);
  const arg = colon < 0 ? '' : t.slice(colon + 1).trim();
  if (kind === 'header' || kind === 'cookie') {
    if (!arg) return `"${t}" needs a name (${kind}:NAME)`;
    if (kind === 'header' && !TOKEN.test(arg.toLowerCase())) return `"${arg}" is not a header name`;
    return kind === 'header' ? { kind, name: arg.toLowerCase() } : { kind, name: arg };
  }
  if (kind === 'jwt') {
    const [claim, header = 'authorization'] = arg.split('@');
    if (!claim) return `"${t}" needs a claim (jwt:sub or jwt:sub@x-token)`;
    if (claim.includes('=')) return `"${claim}" is not a claim name`;
    if (!TOKEN.test(header.toLowerCase())) return `"${header}" is not a header name`;
    return { kind, claim: claim.split('.'), header: header.toLowerCase() };
  }
  return `unknown key "${t}": expected ip, header:NAME, cookie:NAME or jwt:CLAIM`;
}

/** The canonical name of a part, as allow-list and override entries name it (`header:x-api-key`). */
export function partName(p: KeyPart): string {
  switch (p.kind) {
    case 'ip':
      return 'ip';
    case 'header':
    case 'cookie':
      return `${p.kind}:${p.name}`;
    case 'jwt':
      return `jwt:${p.claim.join('.')}${p.header === 'authorization' ? '' : `@${p.header}`}`;
  }
}
