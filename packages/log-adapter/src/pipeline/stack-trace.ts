import { K, type LogRecord } from '../record.js';

/**
 * Multi-line rules for stack traces (Java, Python, Node, Go panics): decides whether a line
 * continues the record before it, and names the exception once the record is complete.
 */

const CONT_PREFIXES = [
  'Caused by: ',
  'Suppressed: ',
  'During handling of the above exception',
  'The above exception was the direct cause',
];

/** Does `line` continue `prev`? Updates prev's Python-traceback state. */
export function continues(line: string, prev: LogRecord): boolean {
  const c = line.charCodeAt(0);
  if (c === 32 || c === 9) return true; // "\tat ...", "    at ...", "  File ...", "\t... 3 more"
  if (line === '') return false;
  if (line.startsWith('Traceback (most recent call last):')) {
    prev.pythonTraceback = true;
    return true;
  }
  if (prev.pythonTraceback) {
    prev.pythonTraceback = false; // the unindented "XxxError: message" line ends a traceback
    return true;
  }
  for (const p of CONT_PREFIXES) if (line.startsWith(p)) return true;
  // a Java/Node exception header right after a warning or error line belongs to that line
  return prev.stack === '' && prev.severityNumber >= 13 && isExceptionHeader(line);
}

/** `java.lang.IllegalStateException: msg`, `Error: boom`, `ZeroDivisionError: x`, `panic: x`. */
export function isExceptionHeader(line: string): boolean {
  if (line.startsWith('Exception in thread ') || line.startsWith('panic: ')) return true;
  let i = 0;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const ident =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 46 ||
      c === 95 ||
      c === 36;
    if (!ident) break;
  }
  if (i === 0 || (i < line.length && line.charCodeAt(i) !== 58)) return false;
  const type = line.slice(0, i);
  return type.endsWith('Exception') || type.endsWith('Error') || type.endsWith('Throwable');
}

/** Sets exception.type / exception.message from the joined stack, if the parser did not. */
export function nameException(rec: LogRecord): void {
  if (rec.attrs.includes(K.exceptionType)) return;
  const s = rec.stack;
  let header: string;
  if (s.startsWith('Traceback')) header = s.slice(s.lastIndexOf('\n') + 1);
  else {
    const nl = s.indexOf('\n');
    header = nl < 0 ? s : s.slice(0, nl);
    if (header.startsWith('Exception in thread ')) {
      const q = header.indexOf('" ', 20);
      if (q > 0) header = header.slice(q + 2);
    }
  }
  if (!isExceptionHeader(header) || header.startsWith('panic: ')) return;
  const colon = header.indexOf(':');
  rec.str(K.exceptionType, colon < 0 ? header : header.slice(0, colon));
  if (colon >= 0) rec.str(K.exceptionMessage, header.slice(colon + 1).trim());
}
