import { describe, expect, it } from 'vitest';
import { cookieSuffix } from './id-cookie.js';

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
