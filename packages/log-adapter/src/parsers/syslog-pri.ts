import { K, type LogRecord } from '../record.js';
import { SYSLOG_SEVERITY } from '../severity.js';
import { digitRun } from '../time/stamps.js';

/** Length of a `<PRI>` prefix (0 when absent) and its value, for both syslog formats. */
export function priLength(line: string): number {
  if (line.charCodeAt(0) !== 60) return 0;
  const n = digitRun(line, 1);
  if (n === 0 || n > 3 || line.charCodeAt(n + 1) !== 62) return -1;
  return n + 2;
}

/** Facility and severity from a PRI value (facility * 8 + severity). */
export function applyPri(rec: LogRecord, pri: number): void {
  const [n, text] = SYSLOG_SEVERITY[pri & 7]!;
  rec.severity(text, n);
  rec.raw(',"syslog.facility":', pri >> 3);
}

/** `tag[pid]: ` or `tag: ` at s[i..]: sets attributes and returns the index of the message. */
export function tagAndPid(s: string, i: number, rec: LogRecord): number {
  let k = i;
  while (k < s.length) {
    const c = s.charCodeAt(k);
    if (c === 91 || c === 58 || c === 32) break;
    k++;
  }
  if (k === i || k >= s.length) return i;
  if (s.charCodeAt(k) === 91) {
    const close = s.indexOf(']', k);
    if (close < 0 || s.charCodeAt(close + 1) !== 58) return i;
    const pid = s.slice(k + 1, close);
    rec.str(',"syslog.appname":', s.slice(i, k));
    if (pid !== '' && digitRun(pid, 0) === pid.length) rec.raw(K.pid, Number(pid));
    else rec.str(',"syslog.procid":', pid);
    return s.charCodeAt(close + 2) === 32 ? close + 3 : close + 2;
  }
  if (s.charCodeAt(k) !== 58) return i;
  rec.str(',"syslog.appname":', s.slice(i, k));
  return s.charCodeAt(k + 1) === 32 ? k + 2 : k + 1;
}
