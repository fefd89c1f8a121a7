import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTraceParent } from './traceparent.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

describe('parseTraceParent', () => {
  it('reads trace and parent span ids of a version 00 header', () => {
    expect(parseTraceParent(`00-${T}-${S}-01`)).toEqual({ traceId: T, spanId: S });
    expect(parseTraceParent(`00-${T}-${S}-00`)).toEqual({ traceId: T, spanId: S });
  });

  it('accepts a later version with more fields, as the spec asks', () => {
    expect(parseTraceParent(`01-${T}-${S}-01-whatever`)).toEqual({ traceId: T, spanId: S });
    expect(parseTraceParent(`01-${T}-${S}-01`)).toEqual({ traceId: T, spanId: S });
    expect(parseTraceParent(`01-${T}-${S}-01x`)).toBeUndefined();
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['version ff', `ff-${T}-${S}-01`],
    ['upper-case hex', `00-${T.toUpperCase()}-${S}-01`],
    ['zero trace id', `00-${'0'.repeat(32)}-${S}-01`],
    ['zero span id', `00-${T}-${'0'.repeat(16)}-01`],
    ['version 00 with more fields', `00-${T}-${S}-01-x`],
    ['short trace id', `00-${T.slice(1)}-${S}-01`],
    ['wrong separator', `00_${T}-${S}-01`],
    ['non-hex', `00-${T.slice(0, 31)}g-${S}-01`],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceParent(value)).toBeUndefined();
  });

  it('never throws, and what it returns is 32 + 16 lower-case hex digits taken from the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const r = parseTraceParent(s);
        if (r === undefined) return;
        expect(r.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(r.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(s.slice(3, 35)).toBe(r.traceId);
      }),
    );
    const hex = (n: number) =>
      fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: n, maxLength: n }).map((a) => a.join(''));
    fc.assert(
      fc.property(hex(32), hex(16), hex(2), (t, s, f) => {
        const r = parseTraceParent(`00-${t}-${s}-${f}`);
        if (/^0+$/.test(t) || /^0+$/.test(s)) expect(r).toBeUndefined();
        else expect(r).toEqual({ traceId: t, spanId: s });
      }),
    );
  });
});
