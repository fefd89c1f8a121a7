import { K } from '../record.js';
import { severityOf } from '../severity.js';
import { digitRun, digits, monthAt, utcStamp } from '../time/stamps.js';
import { type ParseContext, type Parser, SLOT } from './context.js';

/**
 * Apache 2.4 error log: `[Www Mmm dd hh:mm:ss.uuuuuu yyyy] [module:level] [pid N:tid N]
 * [client ip:port] AHnnnnn: message`. The time is local (zone-less); `[client ...]` is optional.
 */
export const parseApacheError: Parser = (line, rec, ctx) => {
  const tsEnd = line.indexOf('] [', 1);
  if (line.charCodeAt(0) !== 91 || tsEnd < 0) return false;
  const time = ctx.stamp(SLOT.apacheError, line, 1, tsEnd, apacheStamp);
  if (time === '') return false;
  const modEnd = line.indexOf('] ', tsEnd + 3);
  if (modEnd < 0) return false;
  const modLevel = line.slice(tsEnd + 3, modEnd);
  const colon = modLevel.lastIndexOf(':');
  const level = colon < 0 ? modLevel : modLevel.slice(colon + 1);
  let i = modEnd + 2;
  let pid = -1;
  let tid = '';
  if (line.startsWith('[pid ', i)) {
    const end = line.indexOf('] ', i);
    if (end < 0) return false;
    const inner = line.slice(i + 5, end);
    const t = inner.indexOf(':tid ');
    pid = Number(t < 0 ? inner : inner.slice(0, t));
    if (t >= 0) tid = inner.slice(t + 5);
    i = end + 2;
  }
  let client = '';
  let port = -1;
  if (line.startsWith('[client ', i)) {
    const end = line.indexOf('] ', i);
    if (end < 0) return false;
    const addr = line.slice(i + 8, end);
    const pc = addr.lastIndexOf(':');
    const p = pc < 0 ? Number.NaN : Number(addr.slice(pc + 1));
    // IPv4 "a.b.c.d:port"; IPv6 may come bracketed or bare with a trailing ":port"
    if (Number.isInteger(p) && pc > 0) {
      client = addr.slice(0, pc).replace(/^\[|\]$/g, '');
      port = p;
    } else client = addr;
    i = end + 2;
  }
  rec.time = time;
  const n = level.startsWith('trace') ? 1 : severityOf(level);
  rec.severity(level, n);
  rec.body = line.slice(i);
  if (colon > 0) rec.str(',"apache.module":', modLevel.slice(0, colon));
  if (pid >= 0 && Number.isInteger(pid)) rec.raw(K.pid, pid);
  if (tid !== '' && digitRun(tid, 0) === tid.length) rec.raw(K.threadId, Number(tid));
  if (client !== '') rec.str(K.clientAddress, client);
  if (port >= 0) rec.raw(K.clientPort, port);
  return true;
};

/** `Sat Nov 28 15:49:10.123456 2026` (fraction optional) in the configured zone. */
function apacheStamp(raw: string, ctx: ParseContext): string {
  const mo = monthAt(raw, 4);
  const d = digits(raw, 8, 2);
  const h = digits(raw, 11, 2);
  const mi = digits(raw, 14, 2);
  const s = digits(raw, 17, 2);
  let k = 19;
  let fraction = '';
  if (raw.charCodeAt(k) === 46) {
    const n = digitRun(raw, k + 1);
    fraction = raw.slice(k + 1, k + 1 + n);
    k += 1 + n;
  }
  const y = digits(raw, k + 1, 4);
  if (mo < 0 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 || y < 0) return '';
  if (raw.charCodeAt(k) !== 32 || raw.length !== k + 5 || fraction.length > 9) return '';
  return utcStamp(ctx.clock.localToEpoch(y, mo, d, h, mi, s), fraction);
}
