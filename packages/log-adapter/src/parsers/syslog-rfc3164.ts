import { K } from '../record.js';
import { digits, monthAt, utcStamp } from '../time/stamps.js';
import { type ParseContext, type Parser, SLOT } from './context.js';
import { applyPri, priLength, tagAndPid } from './syslog-pri.js';

/**
 * BSD syslog (RFC 3164) as rsyslog/syslog-ng write it: `[<PRI>]Mmm dd hh:mm:ss host tag[pid]: msg`.
 * Files usually omit PRI. The stamp has no year and no zone: the year is the current one in the
 * configured zone, or the previous one when that would put the line more than a week ahead
 * (December lines read in January).
 */
export const parseSyslog3164: Parser = (line, rec, ctx) => {
  const p = priLength(line);
  if (p < 0) return false;
  if (line.charCodeAt(p + 3) !== 32 || line.charCodeAt(p + 6) !== 32 || line.charCodeAt(p + 15) !== 32)
    return false;
  const time = ctx.stamp(SLOT.syslog3164, line, p, p + 15, bsdStamp);
  if (time === '') return false;
  const hostEnd = line.indexOf(' ', p + 16);
  if (hostEnd <= p + 16) return false;
  rec.time = time;
  if (p > 0) applyPri(rec, Number(line.slice(1, p - 1)));
  rec.str(K.hostName, line.slice(p + 16, hostEnd));
  rec.body = line.slice(tagAndPid(line, hostEnd + 1, rec));
  return true;
};

/** `Nov 28 15:49:08` / `Nov  3 07:05:01` -> RFC 3339 UTC. */
function bsdStamp(raw: string, ctx: ParseContext): string {
  const mo = monthAt(raw, 0);
  const d = raw.charCodeAt(4) === 32 ? digits(raw, 5, 1) : digits(raw, 4, 2);
  const h = digits(raw, 7, 2);
  const mi = digits(raw, 10, 2);
  const s = digits(raw, 13, 2);
  if (mo < 0 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return '';
  const now = ctx.now();
  const year = new Date(now + ctx.clock.offsetAt(now)).getUTCFullYear();
  let t = ctx.clock.localToEpoch(year, mo, d, h, mi, s);
  if (t > now + 7 * 86_400_000) t = ctx.clock.localToEpoch(year - 1, mo, d, h, mi, s);
  return utcStamp(t, '');
}
