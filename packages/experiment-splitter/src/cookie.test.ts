import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cookieSuffix, cookieValue } from './cookie.js';

describe('cookieValue', () => {
  it('finds a cookie by exact name', () => {
    expect(cookieValue('uid=42', 'uid')).toBe('42');
    expect(cookieValue('a=1; uid=42; b=2', 'uid')).toBe('42');
    expect(cookieValue('xuid=1; uid=2', 'uid')).toBe('2');
    expect(cookieValue('uidx=1;uid=3', 'uid')).toBe('3');
    expect(cookieValue('a=uid=9; uid=4', 'uid')).toBe('4');
    expect(cookieValue('uid="quoted"', 'uid')).toBe('quoted');
    expect(cookieValue('uid= spaced ;x=1', 'uid')).toBe('spaced');
  });

  it('returns undefined when absent or empty', () => {
    expect(cookieValue(undefined, 'uid')).toBeUndefined();
    expect(cookieValue('', 'uid')).toBeUndefined();
    expect(cookieValue('xuid=1', 'uid')).toBeUndefined();
    expect(cookieValue('uid=', 'uid')).toBeUndefined();
    expect(cookieValue('uid', 'uid')).toBeUndefined();
    expect(cookieValue('uid=""', 'uid')).toBeUndefined();
  });

  it('never throws and agrees with a naive parser on well-formed headers (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(token, value), { maxLength: 6 }), token, (pairs, name) => {
        const header = pairs.map(([k, v]) => `${k}=${v}`).join('; ');
        const expected = pairs.find(([k]) => k === name)?.[1];
        return cookieValue(header, name) === expected;
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (h, n) => {
        const v = cookieValue(h, n);
        return v === undefined || typeof v === 'string';
      }),
    );
  });
});

describe('cookieSuffix', () => {
  it('renders the configured attributes', () => {
    expect(
      cookieSuffix({
        path: '/',
        domain: '',
        maxAge: 86_400_000,
        sameSite: 'Lax',
        secure: false,
        httpOnly: true,
      }),
    ).toBe('; Path=/; Max-Age=86400; SameSite=Lax; HttpOnly');
    expect(
      cookieSuffix({
        path: '/app',
        domain: 'example.com',
        maxAge: 1000,
        sameSite: 'None',
        secure: true,
        httpOnly: false,
      }),
    ).toBe('; Path=/app; Domain=example.com; Max-Age=1; SameSite=None; Secure');
    expect(
      cookieSuffix({ path: '', domain: '', maxAge: 0, sameSite: 'off', secure: false, httpOnly: false }),
    ).toBe('; Max-Age=0');
  });
});
