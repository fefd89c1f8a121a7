/** The attributes of the id cookie the splitter issues to a request without a user key. */
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
