import { parseIsoLike, stampFromEpoch, utcStamp } from '../../time/stamps.js';
import type { ZoneClock } from '../../time/zone-clock.js';

/** Text of a time field -> RFC 3339 UTC ('' when it does not match the format). */
export type TimeReader = (text: string, clock: ZoneClock) => string;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** What each strptime directive matches, and which field it sets. */
const DIRECTIVES: Record<string, [string, string]> = {
  Y: ['(\\d{4})', 'Y'],
  y: ['(\\d{2})', 'y'],
  m: ['(\\d{1,2})', 'm'],
  d: ['(\\d{1,2})', 'd'],
  e: ['\\s?(\\d{1,2})', 'd'],
  H: ['(\\d{1,2})', 'H'],
  I: ['(\\d{1,2})', 'I'],
  p: ['([AaPp][Mm])', 'p'],
  M: ['(\\d{2})', 'M'],
  S: ['(\\d{2})', 'S'],
  L: ['(\\d{3})', 'f'],
  f: ['(\\d{1,9})', 'f'],
  N: ['(\\d{1,9})', 'f'],
  z: ['(Z|[+-]\\d{2}:?\\d{2})', 'z'],
  b: ['([A-Za-z]{3})', 'b'],
  h: ['([A-Za-z]{3})', 'b'],
  B: ['([A-Za-z]{3})[A-Za-z]*', 'b'],
  a: ['[A-Za-z]{3}', ''],
  A: ['[A-Za-z]+', ''],
  s: ['(\\d{1,12})', 's'],
};

/**
 * A time format: `rfc3339` / `iso8601`, `epoch` (seconds, fractions kept), `epoch_ms`, or a
 * strptime pattern as in fluent-bit's Time_Format (`%Y-%m-%d %H:%M:%S.%L %z`, `%d/%b/%Y:%H:%M:%S %z`,
 * `%b %e %T`; %T = %H:%M:%S, %F = %Y-%m-%d). Stamps without %z are read in --timezone; without a
 * year, the current year. Returns the reader or an error message.
 */
export function compileTimeFormat(format: string): TimeReader | string {
  if (format === 'rfc3339' || format === 'iso8601') return (t, clock) => parseIsoLike(t.trim(), 0, clock);
  if (format === 'epoch' || format === 'epoch_ms') {
    const unit = format === 'epoch' ? 's' : 'ms';
    return (t) => {
      const n = Number(t.trim());
      return t.trim() === '' || Number.isNaN(n) ? '' : stampFromEpoch(n, unit);
    };
  }
  const fmt = format.replace(/%T/g, '%H:%M:%S').replace(/%F/g, '%Y-%m-%d');
  let src = '^';
  const fields: string[] = [];
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') {
      src += c === ' ' ? '\\s+' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      continue;
    }
    const d = fmt[++i];
    if (d === '%') {
      src += '%';
      continue;
    }
    const spec = d === undefined ? undefined : DIRECTIVES[d];
    if (!spec)
      return `unsupported directive %${d ?? ''} (supported: %${Object.keys(DIRECTIVES).join(' %')} %T %F %%)`;
    src += spec[0];
    if (spec[1]) fields.push(spec[1]);
  }
  if (!fields.some((f) => f === 's' || f === 'H' || f === 'I'))
    return 'a time format needs at least the hour (or %s)';
  const re = new RegExp(`${src}$`);
  return (text, clock) => {
    const m = re.exec(text.trim());
    if (!m) return '';
    const v: Record<string, string> = {};
    fields.forEach((f, k) => {
      v[f] = m[k + 1]!;
    });
    if (v.s !== undefined) return stampFromEpoch(Number(v.s), 's');
    const now = new Date();
    const year = v.Y ? Number(v.Y) : v.y ? 2000 + Number(v.y) : now.getUTCFullYear();
    const month = v.m ? Number(v.m) - 1 : v.b ? MONTHS.indexOf(v.b.toLowerCase()) : 0;
    let hour = Number(v.H ?? v.I ?? 0);
    if (v.p) hour = (hour % 12) + (/^p/i.test(v.p) ? 12 : 0);
    const day = Number(v.d ?? 1);
    const minute = Number(v.M ?? 0);
    const second = Number(v.S ?? 0);
    if (month < 0 || month > 11 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return '';
    let epoch: number;
    if (v.z !== undefined) {
      const wall = Date.UTC(year, month, day, hour, minute, second);
      if (v.z === 'Z') epoch = wall;
      else {
        const z = v.z.replace(':', '');
        const off = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60_000;
        epoch = wall - (z[0] === '+' ? off : -off);
      }
    } else epoch = clock.localToEpoch(year, month, day, hour, minute, second);
    return Number.isNaN(epoch) ? '' : utcStamp(epoch, v.f ?? '');
  };
}
