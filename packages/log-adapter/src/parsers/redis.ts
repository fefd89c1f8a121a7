import { K } from '../record.js';
import { digitRun, digits, monthAt, utcStamp } from '../time/stamps.js';
import { type ParseContext, type Parser, SLOT } from './context.js';

const LEVELS: Record<string, [string, number]> = {
  '.': ['debug', 5],
  '-': ['verbose', 6],
  '*': ['notice', 10],
  '#': ['warning', 13],
};
const ROLES: Record<string, string> = { C: 'child', M: 'master', S: 'replica', X: 'sentinel' };

/** Redis 3+ log: `pid:role dd Mon yyyy hh:mm:ss.mmm <level> message` (local time, no zone). */
export const parseRedis: Parser = (line, rec, ctx) => {
  const pidLen = digitRun(line, 0);
  if (pidLen === 0 || line.charCodeAt(pidLen) !== 58 || line.charCodeAt(pidLen + 2) !== 32) return false;
  const role = ROLES[line[pidLen + 1]!];
  const ts = pidLen + 3;
  const tsEnd = ts + 24; // "28 Nov 2026 15:49:08.732"
  const level = LEVELS[line[tsEnd + 1]!];
  if (
    !role ||
    !level ||
    line.charCodeAt(tsEnd) !== 32 ||
    (line.length > tsEnd + 2 && line.charCodeAt(tsEnd + 2) !== 32)
  ) {
    return false;
  }
  const time = ctx.stamp(SLOT.redis, line, ts, tsEnd, redisStamp);
  if (time === '') return false;
  rec.time = time;
  rec.severity(level[0], level[1]);
  rec.body = line.slice(tsEnd + 3);
  rec.raw(K.pid, Number(line.slice(0, pidLen)));
  rec.str(',"redis.role":', role);
  return true;
};

function redisStamp(raw: string, ctx: ParseContext): string {
  const d = digits(raw, 0, 2);
  const mo = monthAt(raw, 3);
  const y = digits(raw, 7, 4);
  const h = digits(raw, 12, 2);
  const mi = digits(raw, 15, 2);
  const s = digits(raw, 18, 2);
  const ms = digits(raw, 21, 3);
  if (d < 1 || mo < 0 || y < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 || ms < 0)
    return '';
  if (raw.charCodeAt(20) !== 46) return '';
  return utcStamp(ctx.clock.localToEpoch(y, mo, d, h, mi, s), raw.slice(21, 24));
}
