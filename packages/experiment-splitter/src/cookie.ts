/**
 * The value of one cookie in a Cookie header, found by scanning (no parse into a map, no
 * allocation but the returned slice). Surrounding double quotes are removed; empty -> undefined.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const n = name.length;
  for (let from = 0; ; ) {
    const at = header.indexOf(name, from);
    if (at < 0) return undefined;
    from = at + 1;
    if (header.charCodeAt(at + n) !== 61 /* = */) continue;
    let b = at - 1;
    while (b >= 0 && (header.charCodeAt(b) === 32 || header.charCodeAt(b) === 9)) b--;
    if (b >= 0 && header.charCodeAt(b) !== 59 /* ; */) continue;
    let start = at + n + 1;
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    while (start < end && header.charCodeAt(start) === 32) start++;
    while (end > start && header.charCodeAt(end - 1) === 32) end--;
    if (end - start >= 2 && header.charCodeAt(start) === 34 && header.charCodeAt(end - 1) === 34) {
      start++;
      end--;
    }
    return end > start ? header.slice(start, end) : undefined;
  }
}

export interface CookieAttributes {
  path: string;
  domain: string;
  /** milliseconds */
  maxAge: number;
  sameSite: 'Lax' | 'Strict' | 'None' | 'off';
  secure: boolean;
  httpOnly: boolean;
}

/** `; Path=/; Max-Age=...; ...`, built once per config and appended to `name=value`. */
export function cookieSuffix(a: CookieAttributes): string {
  let s = '';
  if (a.path) s += `; Path=${a.path}`;
  if (a.domain) s += `; Domain=${a.domain}`;
  s += `; Max-Age=${Math.floor(a.maxAge / 1000)}`;
  if (a.sameSite !== 'off') s += `; SameSite=${a.sameSite}`;
  if (a.secure) s += '; Secure';
  if (a.httpOnly) s += '; HttpOnly';
  return s;
}
