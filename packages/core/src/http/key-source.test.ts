import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keySourceName, parseKeySource, readKeySource, zKeySource } from './key-source.js';
import { TrustedProxies } from './trusted-proxies.js';

const req = (headers: IncomingHttpHeaders, remoteAddress = '::ffff:10.0.0.9') => ({
  headers,
  socket: { remoteAddress },
});
const none = new TrustedProxies([]);

describe('key sources', () => {
  it('parses ip, header:NAME and cookie:NAME', () => {
    expect(parseKeySource('ip')).toEqual({ kind: 'ip' });
    expect(parseKeySource(' ip ')).toEqual({ kind: 'ip' });
    expect(parseKeySource('header:X-API-Key')).toEqual({ kind: 'header', name: 'x-api-key' });
    expect(parseKeySource('cookie:Session')).toEqual({ kind: 'cookie', name: 'Session' });
    expect(parseKeySource('header: x-user ')).toEqual({ kind: 'header', name: 'x-user' });
  });

  it('names what is wrong', () => {
    expect(parseKeySource('header:')).toBe('"header:" needs a name (header:NAME)');
    expect(parseKeySource('cookie')).toBe('"cookie" needs a name (cookie:NAME)');
    expect(parseKeySource('header:a b')).toBe('"a b" is not a header name');
    expect(parseKeySource('cookie:a;b')).toBe('"a;b" is not a cookie name');
    expect(parseKeySource('path')).toBe('unknown key "path": expected ip, header:NAME or cookie:NAME');
    expect(parseKeySource('jwt:sub', 'ip, header:NAME, cookie:NAME or jwt:CLAIM')).toBe(
      'unknown key "jwt:sub": expected ip, header:NAME, cookie:NAME or jwt:CLAIM',
    );
    expect(zKeySource.safeParse('header:x').success).toBe(true);
    expect(zKeySource.safeParse('query:x').error?.issues[0]?.message).toMatch(/unknown key "query:x"/);
  });

  it('canonical names round-trip (property)', () => {
    const name = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,10}$/);
    const src = fc.oneof(
      fc.constant('ip'),
      name.map((n) => `header:${n}`),
      name.map((n) => `cookie:${n}`),
    );
    fc.assert(
      fc.property(src, (s) => {
        const parsed = parseKeySource(s);
        expect(typeof parsed).not.toBe('string');
        if (typeof parsed === 'string') return;
        expect(parseKeySource(keySourceName(parsed))).toEqual(parsed);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseKeySource(s);
        expect(typeof r === 'string' || ['ip', 'header', 'cookie'].includes(r.kind)).toBe(true);
      }),
    );
  });

  it('reads headers, cookies and the client address; empty is missing', () => {
    const h = parseKeySource('header:x-user') as never;
    const c = parseKeySource('cookie:uid') as never;
    const ip = parseKeySource('ip') as never;
    expect(readKeySource(req({ 'x-user': 'alice' }), h, none)).toBe('alice');
    expect(readKeySource(req({ 'x-user': '' }), h, none)).toBeUndefined();
    expect(readKeySource(req({}), h, none)).toBeUndefined();
    expect(readKeySource(req({ cookie: 'a=1; uid="42"' }), c, none)).toBe('42');
    expect(readKeySource(req({ cookie: 'uid=' }), c, none)).toBeUndefined();
    expect(readKeySource(req({ 'x-forwarded-for': '1.2.3.4' }), ip, none)).toBe('10.0.0.9');
    const trusted = new TrustedProxies(['10.0.0.0/8']);
    expect(readKeySource(req({ 'x-forwarded-for': '1.2.3.4' }), ip, trusted)).toBe('1.2.3.4');
    expect(readKeySource(req({}, ''), ip, none)).toBeUndefined();
  });
});
