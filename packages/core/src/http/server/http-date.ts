let cached = '';
let cachedSecond = -1;

/** The Date header value (RFC 9110 IMF-fixdate), formatted at most once per second. */
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cached = new Date(now).toUTCString();
  }
  return cached;
}
