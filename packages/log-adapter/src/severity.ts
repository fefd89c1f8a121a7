/**
 * OpenTelemetry SeverityNumber (1-24) for the level words and numbers loggers write.
 * Syslog levels follow the OTel data model's appendix (notice = INFO2, crit = ERROR2, alert = ERROR3).
 */
const BY_NAME: Record<string, number> = {
  trace: 1,
  finest: 1,
  finer: 2,
  fine: 5,
  debug: 5,
  dbg: 5,
  verbose: 6,
  config: 7,
  info: 9,
  information: 9,
  informational: 9,
  note: 9,
  system: 9,
  notice: 10,
  warn: 13,
  warning: 13,
  wrn: 13,
  error: 17,
  err: 17,
  severe: 17,
  crit: 18,
  critical: 18,
  alert: 19,
  fatal: 21,
  emerg: 21,
  emergency: 21,
  panic: 21,
  dpanic: 21,
};

const cache = new Map<string, number>();

/** Severity number for a level word in any case; 0 (unspecified) when unknown. */
export function severityOf(text: string): number {
  let n = cache.get(text);
  if (n !== undefined) return n;
  n = BY_NAME[text.toLowerCase()] ?? 0;
  if (cache.size < 256) cache.set(text, n);
  return n;
}

/** Canonical short name of a severity number, used when the source gives only a number. */
export function severityName(n: number): string {
  if (n <= 0) return '';
  if (n <= 4) return 'TRACE';
  if (n <= 8) return 'DEBUG';
  if (n <= 12) return 'INFO';
  if (n <= 16) return 'WARN';
  if (n <= 20) return 'ERROR';
  return 'FATAL';
}

/** pino / bunyan numeric levels (10 trace ... 60 fatal). */
export function severityOfPinoLevel(level: number): number {
  if (level >= 60) return 21;
  if (level >= 50) return 17;
  if (level >= 40) return 13;
  if (level >= 30) return 9;
  if (level >= 20) return 5;
  return level > 0 ? 1 : 0;
}

/** syslog severity (0 emerg ... 7 debug) -> [OTel number, keyword]. */
export const SYSLOG_SEVERITY: ReadonlyArray<readonly [number, string]> = [
  [21, 'emerg'],
  [19, 'alert'],
  [18, 'crit'],
  [17, 'err'],
  [13, 'warning'],
  [10, 'notice'],
  [9, 'info'],
  [5, 'debug'],
];
