import type { LogRecord } from '../record.js';
import type { ZoneClock } from '../time/zone-clock.js';

/** A parser fills `rec` and returns true, or returns false leaving `rec` untouched. */
export type Parser = (line: string, rec: LogRecord, ctx: ParseContext) => boolean;

/**
 * What parsers share per pipeline: the zone for zone-less stamps, and one memo slot per parser
 * for the last converted timestamp (consecutive lines mostly repeat the same second).
 */
export class ParseContext {
  private readonly keys: string[] = [];
  private readonly values: string[] = [];

  constructor(readonly clock: ZoneClock) {}

  /**
   * convert(text[start..end]) with the result remembered per slot: consecutive lines mostly carry
   * the same stamp, and the comparison in place costs no substring allocation.
   */
  stamp(
    slot: number,
    text: string,
    start: number,
    end: number,
    convert: (raw: string, ctx: ParseContext) => string,
  ): string {
    const key = this.keys[slot];
    if (key !== undefined && key.length === end - start && text.startsWith(key, start))
      return this.values[slot]!;
    const raw = text.slice(start, end);
    const v = convert(raw, this);
    this.keys[slot] = raw;
    this.values[slot] = v;
    return v;
  }

  /** Current time; a method so tests can pin the year that syslog 3164 stamps lack. */
  now(): number {
    return Date.now();
  }
}

/** Memo slots, one per parser. */
export const SLOT = {
  access: 0,
  nginxError: 1,
  apacheError: 2,
  redis: 3,
  syslog3164: 4,
  syslog5424: 5,
  mysql: 6,
  appText: 7,
  container: 8,
  json: 9,
} as const;
