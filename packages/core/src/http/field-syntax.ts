/**
 * HTTP field syntax (RFC 9110 5.1, 5.5, 5.6.2), once for every component: header names, cookie
 * names (RFC 6265: a cookie-name is a token) and methods are tokens; field values never carry
 * CR, LF, NUL or other controls but HTAB.
 */

/** tchar as a regular-expression character class, for patterns that embed a token. */
export const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";

/** A whole token: a header name, cookie name or method. */
export const TOKEN: RegExp = new RegExp(`^${TCHAR}+$`);

/** True if `s` is a token (non-empty, tchar only). */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/** A character no field value may carry: controls other than HTAB, and DEL. */
export const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** A character no request target may carry on the wire (controls, space, beyond latin1). */
export const INVALID_TARGET_CHAR = /[^\u0021-\u00ff]/;
