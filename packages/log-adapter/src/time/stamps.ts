import type { ZoneClock } from './zone-clock.js';

/**
 * Small timestamp helpers shared by the parsers. They read digits by char code (no regex, no
 * Date parsing of arbitrary strings) and return '' for anything malformed.
 */

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** 0-11 for a three-letter English month name at s[i..i+3], -1 otherwise. */
export function monthAt(s: string, i: number): number {
  const idx = MONTHS.indexOf(s.slice(i, i + 3));
  return idx >= 0 && idx % 3 === 0 ? idx / 3 : -1;
}

/** Integer from n decimal digits at s[i..], -1 when any is not a digit. */
export function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Count of consecutive digits starting at s[i]. */
export function digitRun(s: string, i: number): number {
  let k = i;
  while (k < s.length) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) break;
    k++;
  }
  return k - i;
}

let lastSecond = Number.NaN;
let lastPrefix = '';

/** "YYYY-MM-DDTHH:MM:SS" for an epoch ms (whole seconds), cached for the last second seen. */
export function isoSecond(epochMs: number): string {
  const sec = Math.floor(epochMs / 1000);
  if (sec !== lastSecond) {
    lastSecond = sec;
    lastPrefix = new Date(sec * 1000).toISOString().slice(0, 19);
  }
  return lastPrefix;
}

/** RFC 3339 UTC with the given fraction digits (kept as written: ms, us or ns precision). */
export function utcStamp(epochMs: number, fraction: string): string {
  const base = isoSecond(epochMs);
  return fraction === '' ? `${base}Z` : `${base}.${fraction}Z`;
}

/** Valid calendar fields? (cheap range checks; Date.UTC normalizes the rest) */
function valid(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  return (
    y >= 0 &&
    mo >= 1 &&
    mo <= 12 &&
    d >= 1 &&
    d <= 31 &&
    h >= 0 &&
    h <= 23 &&
    mi >= 0 &&
    mi <= 59 &&
    s >= 0 &&
    s <= 60
  );
}

/**
 * `YYYY-MM-DD[T ]hh:mm:ss[.,frac][Z|±hh:mm|±hhmm]` starting at s[i]; returns the UTC stamp and
 * sets `parsedEnd` to the index after it. Without a zone the clock's zone applies.
 */
export function parseIsoLike(s: string, i: number, clock: ZoneClock): string {
  parsedEnd = -1;
  const y = digits(s, i, 4);
  const mo = digits(s, i + 5, 2);
  const d = digits(s, i + 8, 2);
  const h = digits(s, i + 11, 2);
  const mi = digits(s, i + 14, 2);
  const sec = digits(s, i + 17, 2);
  const sepD = s.charCodeAt(i + 10);
  if (
    s.charCodeAt(i + 4) !== 45 ||
    s.charCodeAt(i + 7) !== 45 ||
    (sepD !== 84 && sepD !== 32 && sepD !== 116) ||
    s.charCodeAt(i + 13) !== 58 ||
    s.charCodeAt(i + 16) !== 58 ||
    !valid(y, mo, d, h, mi, sec)
  ) {
    return '';
  }
  let k = i + 19;
  let fraction = '';
  const fc = s.charCodeAt(k);
  if (fc === 46 || fc === 44) {
    const n = digitRun(s, k + 1);
    if (n === 0 || n > 9) return '';
    fraction = s.slice(k + 1, k + 1 + n);
    k += 1 + n;
  }
  const z = s.charCodeAt(k);
  let epoch: number;
  if (z === 90 || z === 122) {
    epoch = Date.UTC(y, mo - 1, d, h, mi, sec);
    k++;
  } else if (z === 43 || z === 45) {
    const oh = digits(s, k + 1, 2);
    const colon = s.charCodeAt(k + 3) === 58 ? 1 : 0;
    const om = digits(s, k + 3 + colon, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return '';
    const off = (oh * 60 + om) * 60_000 * (z === 43 ? 1 : -1);
    epoch = Date.UTC(y, mo - 1, d, h, mi, sec) - off;
    k += 5 + colon;
  } else {
    epoch = clock.localToEpoch(y, mo - 1, d, h, mi, sec);
  }
  parsedEnd = k;
  return utcStamp(epoch, fraction);
}

/** End index of the last successful parseIsoLike (-1 after a failure). */
export let parsedEnd = -1;

/** Epoch seconds or milliseconds as a number (zap `ts`, pino `time`) -> RFC 3339 UTC. */
export function stampFromEpoch(value: number, unit: 's' | 'ms'): string {
  // beyond year 9999 (or negative) is not a time: the field stays an attribute
  if (!Number.isFinite(value) || value < 0 || value >= (unit === 'ms' ? 253402300800000 : 253402300800))
    return '';
  if (unit === 'ms') {
    const ms = Math.floor(value);
    const sub = Math.round((value - ms) * 1e6);
    const frac = String(ms % 1000).padStart(3, '0') + (sub ? String(sub).padStart(6, '0') : '');
    return utcStamp(ms, frac);
  }
  // keep the written precision of a float seconds value (zap: 1795880954.123456)
  const text = String(value);
  const dot = text.indexOf('.');
  if (text.includes('e')) return utcStamp(Math.floor(value) * 1000, '');
  return utcStamp(Math.floor(value) * 1000, dot < 0 ? '' : text.slice(dot + 1, dot + 10));
}
