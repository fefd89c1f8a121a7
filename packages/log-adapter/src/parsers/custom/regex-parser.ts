import { K, type LogRecord } from '../../record.js';
import { severityOf } from '../../severity.js';
import type { ParseContext } from '../context.js';
import type { TimeReader } from './time-format.js';

export type FieldType = 'string' | 'int' | 'float' | 'bool';

export interface RegexParserSpec {
  regex: RegExp;
  timeKey: string;
  time: TimeReader;
  severityKey: string;
  messageKey: string;
  types: Readonly<Record<string, FieldType>>;
  rename: Readonly<Record<string, string>>;
}

/**
 * A user-defined parser (as fluent-bit's regex parser and Vector's parse_regex): the named groups
 * of one regular expression become attributes, except the time group (-> timestamp, read with the
 * time format), the severity group (-> severity_text/number) and the message group (-> body; the
 * whole text without one). Groups that did not take part are left out. The expression runs with
 * the `s` flag, so a message group can span the lines a multiline rule joined.
 */
export class RegexParser {
  private readonly keys = new Map<string, string>();

  constructor(private readonly spec: RegexParserSpec) {}

  private key(group: string): string {
    let k = this.keys.get(group);
    if (k === undefined) {
      k = `,${JSON.stringify(this.spec.rename[group] ?? group)}:`;
      this.keys.set(group, k);
    }
    return k;
  }

  parse(text: string, rec: LogRecord, ctx: ParseContext): boolean {
    const m = this.spec.regex.exec(text);
    if (!m?.groups) return false;
    const s = this.spec;
    rec.body = text;
    for (const [group, value] of Object.entries(m.groups)) {
      if (value === undefined) continue;
      if (group === s.timeKey) {
        const t = s.time(value, ctx.clock);
        if (t !== '') {
          rec.time = t;
          continue;
        }
        rec.str(K.parseError, `time "${value}" does not match the time format`);
      } else if (group === s.severityKey) {
        rec.severity(value, severityOf(value));
        continue;
      } else if (group === s.messageKey) {
        rec.body = value;
        continue;
      }
      const type = s.types[group];
      const key = this.key(group);
      if (type === 'int' && /^-?\d{1,15}$/.test(value)) rec.raw(key, Number(value));
      else if (type === 'float' && value.trim() !== '' && Number.isFinite(Number(value)))
        rec.raw(key, Number(value));
      else if (type === 'bool' && /^(true|false)$/i.test(value)) rec.raw(key, value.toLowerCase() === 'true');
      else rec.str(key, value);
    }
    return true;
  }
}
