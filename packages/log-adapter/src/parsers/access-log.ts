import { K, type LogRecord } from '../record.js';
import { digits, monthAt, utcStamp } from '../time/stamps.js';
import { type ParseContext, type Parser, SLOT } from './context.js';
import { headerValue, requestAttributes } from './request-line.js';
import { unescapeLogString } from './unescape.js';

/**
 * Access logs of the Common Log Format family, by index scanning (no regex):
 *   nginx `combined`/`main`, Apache common and combined:
 *     host ident user [dd/Mon/yyyy:hh:mm:ss +zzzz] "request" status bytes ["referer" "agent"]
 *   ingress-nginx's default format appends:
 *     request_length request_time [upstream] [alternative] upstream_addr len time status req_id
 * The body is the line as written; the fields become OpenTelemetry HTTP attributes. Severity
 * follows the status (5xx ERROR, 4xx WARN, else INFO), as access logs carry no level.
 */
export const parseAccessLog: Parser = (line, rec, ctx) => {
  const s1 = line.indexOf(' ');
  if (s1 <= 0) return false;
  const s2 = line.indexOf(' ', s1 + 1);
  if (s2 < 0) return false;
  const s3 = line.indexOf(' ', s2 + 1);
  if (s3 < 0 || line.charCodeAt(s3 + 1) !== 91 /* [ */) return false;
  const close = line.charCodeAt(s3 + 28) === 93 ? s3 + 28 : line.indexOf(']', s3 + 2);
  if (close < 0 || line.charCodeAt(close + 1) !== 32 || line.charCodeAt(close + 2) !== 34) return false;
  const time = ctx.stamp(SLOT.access, line, s3 + 2, close, clfStamp);
  if (time === '') return false;
  const reqEnd = quoteEnd(line, close + 3);
  if (reqEnd < 0 || line.charCodeAt(reqEnd + 1) !== 32) return false;
  const status = digits(line, reqEnd + 2, 3);
  if (status < 0 || line.charCodeAt(reqEnd + 5) !== 32) return false;
  let p = line.indexOf(' ', reqEnd + 6);
  if (p < 0) p = line.length;
  const bytesText = line.slice(reqEnd + 6, p);
  const bytes = bytesText === '-' ? 0 : Number(bytesText);
  if (!Number.isInteger(bytes) || bytesText === '') return false;

  let referer = '';
  let agent = '';
  let tail = '';
  if (p < line.length) {
    if (line.charCodeAt(p + 1) !== 34) return false;
    const refEnd = quoteEnd(line, p + 2);
    if (refEnd < 0 || line.charCodeAt(refEnd + 1) !== 32 || line.charCodeAt(refEnd + 2) !== 34) return false;
    const uaEnd = quoteEnd(line, refEnd + 3);
    if (uaEnd < 0) return false;
    referer = line.slice(p + 2, refEnd);
    agent = line.slice(refEnd + 3, uaEnd);
    if (uaEnd + 1 < line.length) {
      if (line.charCodeAt(uaEnd + 1) !== 32) return false;
      tail = line.slice(uaEnd + 2);
    }
  }

  rec.time = time;
  if (status >= 500) rec.severity('ERROR', 17);
  else if (status >= 400) rec.severity('WARN', 13);
  else rec.severity('INFO', 9);
  rec.body = line;
  rec.str(K.clientAddress, line.slice(0, s1));
  const user = line.slice(s2 + 1, s3);
  if (user !== '-') rec.str(K.user, user);
  requestAttributes(line.slice(close + 3, reqEnd), rec);
  rec.raw(K.status, status);
  rec.raw(K.bodySize, bytes);
  if (referer !== '' && referer !== '-') rec.raw(K.referer, headerValue(unescapeLogString(referer)));
  if (agent !== '' && agent !== '-') rec.str(K.userAgent, unescapeLogString(agent));
  if (tail !== '') tailAttributes(tail, rec);
  return true;
};

/** Index of the closing quote of a string starting at `from`, honouring Apache's `\"`. */
function quoteEnd(line: string, from: number): number {
  let q = line.indexOf('"', from);
  while (q > 0 && line.charCodeAt(q - 1) === 92) {
    let n = 0;
    for (let k = q - 1; k >= from && line.charCodeAt(k) === 92; k--) n++;
    if (n % 2 === 0) break;
    q = line.indexOf('"', q + 1);
  }
  return q;
}

/**
 * Fields after the user agent: nginx's default `main` format adds "$http_x_forwarded_for";
 * ingress-nginx adds its upstream fields. Unknown layouts are kept whole.
 */
function tailAttributes(tail: string, rec: LogRecord): void {
  if (tail.charCodeAt(0) === 34 && quoteEnd(tail, 1) === tail.length - 1) {
    const xff = tail.slice(1, -1);
    if (xff !== '-') rec.raw(',"http.request.header.x-forwarded-for":', headerValue(unescapeLogString(xff)));
    return;
  }
  const t = tail.split(' ');
  const b1 = t[2] ?? '';
  const b2 = t[3] ?? '';
  const reqLen = Number(t[0]);
  const reqTime = Number(t[1]);
  if (
    t.length < 9 ||
    !Number.isFinite(reqLen) ||
    !Number.isFinite(reqTime) ||
    !b1.startsWith('[') ||
    !b1.endsWith(']') ||
    !b2.startsWith('[') ||
    !b2.endsWith(']')
  ) {
    rec.str(',"dds.unparsed_tail":', tail);
    return;
  }
  rec.raw(K.requestSize, reqLen);
  rec.raw(',"nginx.request_time":', reqTime);
  if (b1.length > 2) rec.str(',"nginx.upstream.name":', b1.slice(1, -1));
  if (b2.length > 2) rec.str(',"nginx.upstream.alternative_name":', b2.slice(1, -1));
  // upstream values are lists ("a:80, b:80") when nginx tried several upstreams: rejoin them
  const groups: string[] = [];
  for (let i = 4; i < t.length; i++) {
    const tok = t[i]!;
    if (groups.length && groups[groups.length - 1]!.endsWith(',')) groups[groups.length - 1] += ` ${tok}`;
    else groups.push(tok);
  }
  if (groups.length !== 5) {
    rec.str(',"dds.unparsed_tail":', t.slice(4).join(' '));
    return;
  }
  const [addr, len, time, status, id] = groups as [string, string, string, string, string];
  rec.str(',"nginx.upstream.address":', addr);
  rec.str(',"nginx.upstream.response_length":', len);
  rec.str(',"nginx.upstream.response_time":', time);
  rec.str(',"nginx.upstream.status":', status);
  rec.str(',"nginx.request_id":', id);
}

/** `28/Nov/2026:15:49:08 +0000` -> RFC 3339 UTC. */
function clfStamp(raw: string, _ctx: ParseContext): string {
  const d = digits(raw, 0, 2);
  const mo = monthAt(raw, 3);
  const y = digits(raw, 7, 4);
  const h = digits(raw, 12, 2);
  const mi = digits(raw, 15, 2);
  const s = digits(raw, 18, 2);
  const sign = raw.charCodeAt(21);
  const oh = digits(raw, 22, 2);
  const om = digits(raw, 24, 2);
  if (
    raw.length !== 26 ||
    d < 1 ||
    mo < 0 ||
    y < 0 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 60 ||
    oh < 0 ||
    om < 0 ||
    (sign !== 43 && sign !== 45)
  ) {
    return '';
  }
  const off = (oh * 60 + om) * 60_000 * (sign === 43 ? 1 : -1);
  return utcStamp(Date.UTC(y, mo, d, h, mi, s) - off, '');
}
