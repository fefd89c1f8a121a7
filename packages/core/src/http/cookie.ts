/**
 * The value of one cookie in a Cookie header (`a=1; b=2`), with one semantics for every
 * component that keys on a cookie (experiment-splitter, rate-limiter, shard-ambassador), so the
 * same header gives the same key everywhere:
 * - pairs are separated by `;`; the name is what comes before the pair's first `=`, and name
 *   and value are trimmed of spaces and tabs (RFC 6265 5.2, as user agents and nginx read them);
 * - names are compared exactly (case-sensitive);
 * - the first pair with the name decides; a value in double quotes loses them (RFC 6265
 *   cookie-value may be quoted: `"abc"` and `abc` are the same value);
 * - an empty value, or none, is no value (undefined).
 * It scans in place: nothing is allocated but the returned slice.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || name.length === 0) return undefined;
  const len = header.length;
  const n = name.length;
  let at = 0;
  while (at < len) {
    let end = header.indexOf(';', at);
    if (end < 0) end = len;
    let s = at;
    while (s < end && isSpace(header.charCodeAt(s))) s++;
    if (header.startsWith(name, s)) {
      let eq = s + n;
      while (eq < end && isSpace(header.charCodeAt(eq))) eq++;
      if (eq < end && header.charCodeAt(eq) === 61 /* = */) return pairValue(header, eq + 1, end);
    }
    at = end + 1;
  }
  return undefined;
}

function pairValue(header: string, start: number, end: number): string | undefined {
  while (start < end && isSpace(header.charCodeAt(start))) start++;
  while (end > start && isSpace(header.charCodeAt(end - 1))) end--;
  if (end - start >= 2 && header.charCodeAt(start) === 34 && header.charCodeAt(end - 1) === 34) {
    start++;
    end--;
  }
  return end > start ? header.slice(start, end) : undefined;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}
