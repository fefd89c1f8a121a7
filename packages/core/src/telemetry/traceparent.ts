/** Trace and parent span of a W3C `traceparent` header (Trace Context level 1). */
export interface TraceParent {
  /** 32 lower-case hex digits, not all zero */
  traceId: string;
  /** 16 lower-case hex digits, not all zero: the caller's span */
  spanId: string;
}

const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/**
 * Parses `version-traceid-parentid-flags`. Version 00 must be exactly 55 characters; a later
 * version may append fields after a `-` (the spec's forward compatibility); version ff, upper-case
 * hex and all-zero ids are invalid. Returns undefined for anything that is not a valid header.
 */
export function parseTraceParent(value: string | undefined): TraceParent | undefined {
  if (value === undefined || value.length < 55) return undefined;
  if (!isLowerHex(value, 0, 2) || value.charCodeAt(2) !== 45 /* - */) return undefined;
  const version = value.slice(0, 2);
  if (version === 'ff') return undefined;
  if (version === '00' ? value.length !== 55 : value.length > 55 && value.charCodeAt(55) !== 45)
    return undefined;
  if (
    !isLowerHex(value, 3, 35) ||
    value.charCodeAt(35) !== 45 ||
    !isLowerHex(value, 36, 52) ||
    value.charCodeAt(52) !== 45 ||
    !isLowerHex(value, 53, 55)
  )
    return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId };
}

function isLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
