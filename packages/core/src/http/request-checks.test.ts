import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkH2Head, checkHttp1Head, originForm, validAuthority } from './request-checks.js';

const h2 = (extra: [string, string][] = [], authority = 'h'): string[] =>
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/'], [':authority', authority], ...extra].flat();

describe('request head checks', () => {
  it('HTTP/1.x: one valid Host (none allowed in 1.0), TE exactly chunked in 1.1, single credentials, no CONNECT', () => {
    expect(checkHttp1Head('GET', ['Host', 'h'], 1)).toBe(0);
    expect(checkHttp1Head('GET', [], 0)).toBe(0);
    expect(checkHttp1Head('GET', [], 1)).toBe(400);
    expect(checkHttp1Head('GET', ['Host', 'h', 'host', 'h'], 1)).toBe(400);
    expect(checkHttp1Head('GET', ['Host', 'h/x'], 1)).toBe(400);
    expect(checkHttp1Head('POST', ['Host', 'h', 'Transfer-Encoding', 'Chunked'], 1)).toBe(0);
    expect(checkHttp1Head('POST', ['Host', 'h', 'Transfer-Encoding', 'gzip, chunked'], 1)).toBe(501);
    expect(checkHttp1Head('POST', ['Host', 'h', 'Transfer-Encoding', 'chunked'], 0)).toBe(400);
    expect(checkHttp1Head('GET', ['Host', 'h', 'Authorization', 'a', 'AUTHORIZATION', 'b'], 1)).toBe(400);
    expect(checkHttp1Head('GET', ['Host', 'h', 'Expect', 'a', 'Authorization', 'b'], 1)).toBe(0);
    expect(checkHttp1Head('CONNECT', ['Host', 'h:443'], 1)).toBe(405);
  });

  it('HTTP/2: :authority and host agree, no connection-specific fields, digits-only lengths', () => {
    expect(checkH2Head(h2())).toBe(0);
    expect(checkH2Head(h2([['host', 'H']]))).toBe(0);
    expect(checkH2Head(h2([['host', 'evil']]))).toBe(400);
    expect(checkH2Head([':method', 'GET', ':scheme', 'https', ':path', '/'])).toBe(400);
    expect(checkH2Head(h2([['connection', 'keep-alive']]))).toBe(400);
    expect(checkH2Head(h2([['te', 'trailers']]))).toBe(0);
    expect(checkH2Head(h2([['te', 'gzip']]))).toBe(400);
    expect(
      checkH2Head(
        h2([
          ['content-length', '5'],
          ['content-length', '6'],
        ]),
      ),
    ).toBe(400);
    expect(checkH2Head(h2([['content-length', '+5']]))).toBe(400);
    expect(checkH2Head(h2([['x', 'a\r\nb']]))).toBe(400);
    expect(checkH2Head(h2([[':foo', 'a']]))).toBe(400);
  });

  it('property: an absolute-form target naming its Host is forwarded as its path; any other authority is refused', () => {
    const authority = fc.oneof(
      fc.stringMatching(/^[a-z0-9.-]{1,20}(:[0-9]{1,5})?$/),
      fc.constantFrom('[::1]', '[::1]:8080', '127.0.0.1:80'),
    );
    const path = fc.oneof(
      fc.constant(''),
      fc.stringMatching(/^\/[a-zA-Z0-9/._~%-]{0,20}(\?[a-z=&]{0,10})?$/),
    );
    fc.assert(
      fc.property(authority, path, fc.boolean(), (a, p, same) => {
        fc.pre(validAuthority(a));
        const host = same ? a.toUpperCase() : `x${a}`;
        const got = originForm(`http://${a}${p}`, host);
        if (same) expect(got).toBe(p === '' ? '/' : p);
        else expect(got).toBeUndefined();
      }),
    );
    expect(originForm('ftp://h/x', 'h')).toBeUndefined();
    expect(originForm('http://h@evil/x', 'h@evil')).toBeUndefined();
  });
});
