import { K } from '../record.js';
import { severityOf } from '../severity.js';
import { parsedEnd, parseIsoLike } from '../time/stamps.js';
import type { Parser } from './context.js';

/**
 * Plain-text application logs that start with a date-time and a level word: Spring Boot /
 * logback (`2026-11-28 15:49:08.120  INFO 1 --- [main] c.e.Logger : message`), Python logging
 * (`2026-11-28 15:49:09,345 ERROR [worker] message`), log4j and most others. Zone-less stamps are
 * read in the configured zone. Stack traces that follow are joined by the multi-line stage.
 */
export const parseAppText: Parser = (line, rec, ctx) => {
  const time = parseIsoLike(line, 0, ctx.clock);
  if (time === '') return false;
  let i = parsedEnd;
  while (line.charCodeAt(i) === 32) i++;
  if (i === parsedEnd) return false;
  let e = i;
  while (e < line.length && line.charCodeAt(e) !== 32) e++;
  let level = line.slice(i, e);
  if (level.charCodeAt(0) === 91 && level.charCodeAt(level.length - 1) === 93) level = level.slice(1, -1);
  const n = severityOf(level);
  if (n === 0) return false;
  rec.time = time;
  rec.severity(level, n);
  const rest = e + 1;
  // Spring Boot: `pid --- [thread] logger : message`
  const dashes = line.indexOf(' --- [', rest);
  if (dashes > rest && dashes - rest <= 10) {
    const pid = Number(line.slice(rest, dashes));
    const tEnd = line.indexOf('] ', dashes + 6);
    const sep = tEnd < 0 ? -1 : line.indexOf(' : ', tEnd + 2);
    if (Number.isInteger(pid) && sep > 0) {
      rec.body = line.slice(sep + 3);
      rec.raw(K.pid, pid);
      rec.str(K.threadName, line.slice(dashes + 6, tEnd).trim());
      rec.str(K.codeNamespace, line.slice(tEnd + 2, sep).trim());
      return true;
    }
  }
  rec.body = rest < line.length ? line.slice(rest) : '';
  return true;
};
