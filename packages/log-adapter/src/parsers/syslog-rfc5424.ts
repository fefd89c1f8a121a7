import { K, type LogRecord } from '../record.js';
import { parsedEnd, parseIsoLike } from '../time/stamps.js';
import type { Parser } from './context.js';
import { applyPri, priLength } from './syslog-pri.js';

/**
 * RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`, `-` for
 * nil fields. Structured data is parsed by hand (escaped `\]`, `\"`, `\\` inside values), so
 * brackets in the message stay in the message. A UTF-8 BOM before MSG is dropped.
 */
export const parseSyslog5424: Parser = (line, rec, ctx) => {
  const p = priLength(line);
  if (p <= 0 || line.charCodeAt(p) !== 49 || line.charCodeAt(p + 1) !== 32) return false;
  let i = p + 2;
  let time = '';
  if (line.charCodeAt(i) === 45 && line.charCodeAt(i + 1) === 32) i += 2;
  else {
    time = parseIsoLike(line, i, ctx.clock);
    if (time === '' || line.charCodeAt(parsedEnd) !== 32) return false;
    i = parsedEnd + 1;
  }
  const fields: string[] = [];
  for (let f = 0; f < 4; f++) {
    const sp = line.indexOf(' ', i);
    if (sp < 0) return false;
    fields.push(line.slice(i, sp));
    i = sp + 1;
  }
  let sd = '';
  if (line.charCodeAt(i) === 45) i += 1;
  else if (line.charCodeAt(i) === 91) {
    const end = structuredDataEnd(line, i);
    if (end < 0) return false;
    sd = line.slice(i, end);
    i = end;
  } else return false;
  if (i < line.length && line.charCodeAt(i) !== 32) return false;
  let msg = i < line.length ? line.slice(i + 1) : '';
  if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);

  rec.time = time;
  applyPri(rec, Number(line.slice(1, p - 1)));
  rec.body = msg;
  const [host, app, procid, msgid] = fields as [string, string, string, string];
  if (host !== '-') rec.str(K.hostName, host);
  if (app !== '-') rec.str(',"syslog.appname":', app);
  if (procid !== '-') {
    const n = Number(procid);
    if (Number.isInteger(n) && n >= 0) rec.raw(K.pid, n);
    else rec.str(',"syslog.procid":', procid);
  }
  if (msgid !== '-') rec.str(',"syslog.msgid":', msgid);
  if (sd !== '') structuredData(sd, rec);
  return true;
};

/** Index after the last `]` of consecutive SD elements starting at s[i] === '['; -1 if malformed. */
function structuredDataEnd(s: string, i: number): number {
  while (s.charCodeAt(i) === 91) {
    let inQuote = false;
    let k = i + 1;
    for (; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (inQuote) {
        if (c === 92) k++;
        else if (c === 34) inQuote = false;
      } else if (c === 34) inQuote = true;
      else if (c === 93) break;
    }
    if (k >= s.length) return -1;
    i = k + 1;
  }
  return i;
}

/** `[id k="v" ...][id2 ...]` -> "syslog.structured_data": {"id": {"k": "v"}, ...}. */
function structuredData(sd: string, rec: LogRecord): void {
  const out: Record<string, Record<string, string>> = {};
  let i = 0;
  while (i < sd.length && sd.charCodeAt(i) === 91) {
    let k = i + 1;
    while (k < sd.length && sd.charCodeAt(k) !== 32 && sd.charCodeAt(k) !== 93) k++;
    const params: Record<string, string> = {};
    out[sd.slice(i + 1, k)] = params;
    while (sd.charCodeAt(k) === 32) {
      const eq = sd.indexOf('="', k);
      if (eq < 0) break;
      const name = sd.slice(k + 1, eq);
      let v = '';
      let j = eq + 2;
      for (; j < sd.length; j++) {
        const c = sd.charCodeAt(j);
        if (c === 92 && j + 1 < sd.length) {
          v += sd[++j];
        } else if (c === 34) break;
        else v += sd[j];
      }
      params[name] = v;
      k = j + 1;
    }
    i = sd.indexOf(']', k) + 1;
    if (i <= 0) break;
  }
  rec.raw(',"syslog.structured_data":', JSON.stringify(out));
}
