import { K } from '../record.js';
import { severityOf } from '../severity.js';
import { digits, utcStamp } from '../time/stamps.js';
import { type ParseContext, type Parser, SLOT } from './context.js';
import { headerValue, requestAttributes } from './request-line.js';

/**
 * nginx error log: `YYYY/MM/DD hh:mm:ss [level] pid#tid: [*cid ]message[, client: a, server: b,
 * request: "...", upstream: "...", host: "...", referrer: "..."]`. The time is local (zone-less).
 */
export const parseNginxError: Parser = (line, rec, ctx) => {
  if (line.charCodeAt(4) !== 47 || line.charCodeAt(19) !== 32 || line.charCodeAt(20) !== 91) return false;
  const time = ctx.stamp(SLOT.nginxError, line, 0, 19, nginxStamp);
  if (time === '') return false;
  const lvEnd = line.indexOf('] ', 21);
  if (lvEnd < 0) return false;
  const hash = line.indexOf('#', lvEnd + 2);
  const colon = line.indexOf(': ', lvEnd + 2);
  if (hash < 0 || colon < hash) return false;
  const pid = Number(line.slice(lvEnd + 2, hash));
  const tid = Number(line.slice(hash + 1, colon));
  if (!Number.isInteger(pid) || !Number.isInteger(tid)) return false;
  let msg = colon + 2;
  let cid = -1;
  if (line.charCodeAt(msg) === 42 /* * */) {
    const sp = line.indexOf(' ', msg);
    const n = Number(line.slice(msg + 1, sp < 0 ? undefined : sp));
    if (sp > 0 && Number.isInteger(n)) {
      cid = n;
      msg = sp + 1;
    }
  }
  const level = line.slice(21, lvEnd);
  rec.time = time;
  rec.severity(level, severityOf(level));
  rec.raw(K.pid, pid);
  rec.raw(K.threadId, tid);
  if (cid >= 0) rec.raw(',"nginx.connection":', cid);
  const ctxStart = line.indexOf(', client: ', msg);
  if (ctxStart < 0) {
    rec.body = line.slice(msg);
    return true;
  }
  rec.body = line.slice(msg, ctxStart);
  contextAttributes(line, ctxStart + 2, rec);
  return true;
};

/** `key: value, key: "quoted value", ...` after the message. */
function contextAttributes(line: string, from: number, rec: Parameters<Parser>[1]): void {
  let i = from;
  while (i < line.length) {
    const kEnd = line.indexOf(': ', i);
    if (kEnd < 0) break;
    const key = line.slice(i, kEnd);
    let value: string;
    if (line.charCodeAt(kEnd + 2) === 34) {
      const q = line.indexOf('"', kEnd + 3);
      if (q < 0) break;
      value = line.slice(kEnd + 3, q);
      i = q + 1;
    } else {
      const c = line.indexOf(', ', kEnd + 2);
      value = line.slice(kEnd + 2, c < 0 ? undefined : c);
      i = c < 0 ? line.length : c;
    }
    if (line.startsWith(', ', i)) i += 2;
    else i = line.length;
    switch (key) {
      case 'client':
        rec.str(K.clientAddress, value);
        break;
      case 'server':
        rec.str(',"nginx.server_name":', value);
        break;
      case 'request':
        requestAttributes(value, rec);
        break;
      case 'upstream':
        rec.str(',"nginx.upstream.address":', value);
        break;
      case 'host':
        rec.raw(',"http.request.header.host":', headerValue(value));
        break;
      case 'referrer':
        rec.raw(K.referer, headerValue(value));
        break;
      default:
        rec.str(`,${JSON.stringify(`nginx.${key.replace(/ /g, '_')}`)}:`, value);
    }
  }
}

/** `YYYY/MM/DD hh:mm:ss` in the configured zone. */
function nginxStamp(raw: string, ctx: ParseContext): string {
  const y = digits(raw, 0, 4);
  const mo = digits(raw, 5, 2);
  const d = digits(raw, 8, 2);
  const h = digits(raw, 11, 2);
  const mi = digits(raw, 14, 2);
  const s = digits(raw, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
    return '';
  if (raw.charCodeAt(7) !== 47 || raw.charCodeAt(10) !== 32) return '';
  return utcStamp(ctx.clock.localToEpoch(y, mo - 1, d, h, mi, s), '');
}
