export interface InfoField {
  section: string;
  key: string;
  value: string;
}

export interface ParsedInfo {
  fields: InfoField[];
  /** lines that are neither `# Section`, blank, nor `key:value` (kept for the log, at most 5) */
  malformed: string[];
  malformedCount: number;
}

/**
 * Splits a Redis INFO reply into (section, key, value) fields. Tolerant like redis-cli: CRLF or
 * LF, unknown sections, values containing ':'. A line without a key is counted as malformed and
 * skipped, never fatal.
 */
export function parseInfo(text: string): ParsedInfo {
  const fields: InfoField[] = [];
  const malformed: string[] = [];
  let malformedCount = 0;
  let section = '';
  let start = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) {
      if (text.charCodeAt(start) === 35) {
        // '#'
        section = text.slice(start + 1, stop).trim();
      } else {
        const colon = text.indexOf(':', start);
        if (colon > start && colon < stop) {
          fields.push({ section, key: text.slice(start, colon), value: text.slice(colon + 1, stop) });
        } else {
          malformedCount++;
          if (malformed.length < 5) malformed.push(text.slice(start, Math.min(stop, start + 120)));
        }
      }
    }
    start = end + 1;
  }
  return { fields, malformed, malformedCount };
}

/** `a=1,b=2` -> Map; undefined when a part has no '=' (a malformed sub-field list). */
export function parseSubFields(value: string): Map<string, string> | undefined {
  const m = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}
