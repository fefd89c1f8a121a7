/**
 * Undoes access-log escaping: nginx writes `"`, `\`, control and non-ASCII bytes as `\xHH`;
 * Apache writes `\"`, `\\`, `\n`, `\t` and `\xhh`. Escaped bytes are collected and decoded as
 * UTF-8 (so an escaped multi-byte character comes back whole; invalid bytes become U+FFFD).
 * Strings without a backslash are returned as they are.
 */
export function unescapeLogString(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 92 || i + 1 >= s.length) {
      flush();
      out += s[i];
      continue;
    }
    const n = s[i + 1];
    if (n === 'x' && i + 3 < s.length && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3))) {
      bytes.push(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
      continue;
    }
    flush();
    out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    i++;
  }
  flush();
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
