import { parseNumber } from '../numeric.js';

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const CERT_DATE_RE = /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} GMT$/;

/**
 * A SHOW STATUS / VARIABLES value as mysqld_exporter reads it: ON/YES -> 1, OFF/NO/DISABLED
 * -> 0, Connecting/Non-Primary/Disconnected -> 0, Primary -> 1, timestamps -> unix seconds,
 * numbers as they are. Anything else (paths, version strings, NULL, '') is not a metric.
 */
export function parseStatusValue(raw: string): number | undefined {
  switch (raw.toLowerCase()) {
    case 'yes':
    case 'on':
    case 'primary':
      return 1;
    case 'no':
    case 'off':
    case 'disabled':
    case 'connecting':
    case 'non-primary':
    case 'disconnected':
      return 0;
  }
  const n = parseNumber(raw);
  if (n !== undefined) return n;
  const dt = DATETIME_RE.exec(raw);
  if (dt) return Date.UTC(+dt[1]!, +dt[2]! - 1, +dt[3]!, +dt[4]!, +dt[5]!, +dt[6]!) / 1000;
  if (CERT_DATE_RE.test(raw)) {
    const ms = Date.parse(raw);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  return undefined;
}
