import { K } from '../record.js';
import { severityOf } from '../severity.js';
import { digitRun, parsedEnd, parseIsoLike } from '../time/stamps.js';
import type { Parser } from './context.js';

/**
 * MariaDB / MySQL error log:
 *   MariaDB 10.x `YYYY-MM-DD hh:mm:ss thread [Level] message` (local time)
 *   MySQL 8      `YYYY-MM-DDThh:mm:ss.uuuuuuZ thread [Level] [MY-nnnnnn] [Subsystem] message`
 */
export const parseMysqlError: Parser = (line, rec, ctx) => {
  const time = parseIsoLike(line, 0, ctx.clock);
  if (time === '' || line.charCodeAt(parsedEnd) !== 32) return false;
  const t0 = parsedEnd + 1;
  const tl = digitRun(line, t0);
  if (tl === 0 || line.charCodeAt(t0 + tl) !== 32 || line.charCodeAt(t0 + tl + 1) !== 91) return false;
  const lvEnd = line.indexOf('] ', t0 + tl + 2);
  if (lvEnd < 0) return false;
  const level = line.slice(t0 + tl + 2, lvEnd);
  const n = severityOf(level);
  if (n === 0) return false;
  let i = lvEnd + 2;
  let code = '';
  let subsystem = '';
  if (line.startsWith('[MY-', i)) {
    const e = line.indexOf('] ', i);
    const e2 = e < 0 ? -1 : line.indexOf('] ', e + 2);
    if (e > 0 && e2 > 0 && line.charCodeAt(e + 2) === 91) {
      code = line.slice(i + 1, e);
      subsystem = line.slice(e + 3, e2);
      i = e2 + 2;
    }
  }
  rec.time = time;
  rec.severity(level, n);
  rec.body = line.slice(i);
  rec.raw(K.threadId, Number(line.slice(t0, t0 + tl)));
  if (code !== '') {
    rec.str(',"mysql.error_code":', code);
    rec.str(',"mysql.subsystem":', subsystem);
  }
  return true;
};
