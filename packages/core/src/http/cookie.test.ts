import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cookieValue } from './cookie.js';

describe('cookieValue', () => {
  it('finds a cookie by its exact name', () => {
    expect(cookieValue('uid=42', 'uid')).toBe('42');
    expect(cookieValue('a=1; uid=42; b=2', 'uid')).toBe('42');
    expect(cookieValue('xuid=1; uid=2', 'uid')).toBe('2');
    expect(cookieValue('uidx=1;uid=3', 'uid')).toBe('3');
    expect(cookieValue('a=uid=9; uid=4', 'uid')).toBe('4');
    expect(cookieValue('Uid=1; uid=5', 'uid')).toBe('5');
    expect(cookieValue('a=1; session=abc; b=2', 'session')).toBe('abc');
  });

  it('trims spaces and tabs around names and values, and removes one pair of double quotes', () => {
    expect(cookieValue('uid= spaced ;x=1', 'uid')).toBe('spaced');
    expect(cookieValue('a=1;\tuid\t=\t7\t', 'uid')).toBe('7');
    expect(cookieValue('uid = 8', 'uid')).toBe('8');
    expect(cookieValue('uid="quoted"', 'uid')).toBe('quoted');
    expect(cookieValue('session="q v"', 'session')).toBe('q v');
    expect(cookieValue('uid= "x" ', 'uid')).toBe('x');
    expect(cookieValue('uid="', 'uid')).toBe('"');
    expect(cookieValue('uid=""x""', 'uid')).toBe('"x"');
  });

  it('keeps what follows the first = of a pair', () => {
    expect(cookieValue('uid=a=b; c=d', 'uid')).toBe('a=b');
  });

  it('lets the first pair with the name decide', () => {
    expect(cookieValue('uid=1; uid=2', 'uid')).toBe('1');
    expect(cookieValue('uid=; uid=2', 'uid')).toBeUndefined();
  });

  it('returns undefined when absent or empty', () => {
    expect(cookieValue(undefined, 'uid')).toBeUndefined();
    expect(cookieValue('', 'uid')).toBeUndefined();
    expect(cookieValue('uid=1', '')).toBeUndefined();
    expect(cookieValue('xuid=1', 'uid')).toBeUndefined();
    expect(cookieValue('uid=', 'uid')).toBeUndefined();
    expect(cookieValue('uid', 'uid')).toBeUndefined();
    expect(cookieValue('uid=""', 'uid')).toBeUndefined();
    expect(cookieValue('xsession=1; session=', 'session')).toBeUndefined();
  });

  it('agrees with a split-and-trim parser on any header (property)', () => {
    const naive = (header: string, name: string): string | undefined => {
      for (const pair of header.split(';')) {
        const eq = pair.indexOf('=');
        if (eq < 0 || pair.slice(0, eq).replace(/^[ \t]+|[ \t]+$/g, '') !== name) continue;
        let v = pair.slice(eq + 1).replace(/^[ \t]+|[ \t]+$/g, '');
        if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
        return v === '' ? undefined : v;
      }
      return undefined;
    };
    const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
    const piece = fc.oneof(
      name,
      fc.constantFrom(';', '=', ' ', '\t', '"', '; ', '=""'),
      fc.stringMatching(/^[A-Za-z0-9 "=;\t]{0,8}$/),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), name, (pieces, n) => {
        const header = pieces.join('');
        expect(cookieValue(header, n)).toBe(naive(header, n));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds every cookie of a well-formed header (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(token, value, fc.boolean()), { maxLength: 6 }), token, (pairs, name) => {
        const header = pairs.map(([k, v, q]) => (q ? `${k}="${v}"` : `${k}=${v}`)).join('; ');
        expect(cookieValue(header, name)).toBe(pairs.find(([k]) => k === name)?.[1]);
      }),
    );
  });
});
