import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompiledPolicy, collectChecks, compilePolicy } from './compile.js';
import { joinKey, jwtClaim, keyExtractor, MAX_PART, normalizePart } from './key-extractor.js';
import { type KeyPart, parseKeyPart } from './key-spec.js';
import type { PolicyRequest } from './matcher.js';
import { hostName } from './matcher.js';
import { parseRate } from './rate.js';
import { zPolicies, zPolicy } from './schema.js';

const req = (headers: Record<string, string>, method = 'GET', url = '/'): PolicyRequest =>
  ({ headers, method, url }) as PolicyRequest;

const jwt = (payload: object) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

describe('parseRate', () => {
  it('reads counts per period', () => {
    expect(parseRate('100/s')).toEqual({ count: 100, periodMs: 1000 });
    expect(parseRate('10/m')).toEqual({ count: 10, periodMs: 60_000 });
    expect(parseRate('1000/h')).toEqual({ count: 1000, periodMs: 3_600_000 });
    expect(parseRate('5/10s')).toEqual({ count: 5, periodMs: 10_000 });
    expect(parseRate('50/500ms')).toEqual({ count: 50, periodMs: 500 });
    expect(parseRate('100r/s')).toEqual({ count: 100, periodMs: 1000 });
  });

  it('rejects anything else', () => {
    for (const bad of ['', '100', '/s', '0/s', '-1/s', '10/x', '10/0s', 'abc/s', '1e3/s'])
      expect(parseRate(bad), bad).toBeUndefined();
  });

  it('never throws and returns positive values (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = parseRate(s);
        if (r) expect(r.count > 0 && r.periodMs > 0).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.constantFrom('s', 'm', 'h', 'd'), (n, u) => {
        expect(parseRate(`${n}/${u}`)?.count).toBe(n);
      }),
    );
  });
});

describe('keys', () => {
  it('parses key specs and names what is wrong', () => {
    expect(parseKeyPart('ip')).toEqual({ kind: 'ip' });
    expect(parseKeyPart('header:X-API-Key')).toEqual({ kind: 'header', name: 'x-api-key' });
    expect(parseKeyPart('cookie:session')).toEqual({ kind: 'cookie', name: 'session' });
    expect(parseKeyPart('jwt:org.id')).toEqual({
      kind: 'jwt',
      claim: ['org', 'id'],
      header: 'authorization',
    });
    expect(parseKeyPart('jwt:sub@x-token')).toEqual({ kind: 'jwt', claim: ['sub'], header: 'x-token' });
    expect(parseKeyPart('header:')).toMatch(/needs a name/);
    expect(parseKeyPart('path')).toMatch(/unknown key "path"/);
    expect(parseKeyPart('header:a b')).toMatch(/not a header name/);
  });

  it('reads cookies with core semantics (quotes removed)', () => {
    const k = keyExtractor([parseKeyPart('cookie:session') as KeyPart]);
    expect(k(req({ cookie: 'a=1; session=abc; b=2' }), { ip: '' })).toEqual(['abc']);
    expect(k(req({ cookie: 'session="q v"' }), { ip: '' })).toEqual(['q v']);
    expect(k(req({ cookie: 'xsession=1; session=' }), { ip: '' })).toBeUndefined();
  });

  it('decodes (without verifying) JWT claims', () => {
    const t = jwt({ sub: 'alice', org: { id: 42 } });
    expect(jwtClaim(t, ['sub'])).toBe('alice');
    expect(jwtClaim(t, ['org', 'id'])).toBe('42');
    expect(jwtClaim(t, ['missing'])).toBeUndefined();
    expect(jwtClaim('not-a-jwt', ['sub'])).toBeUndefined();
    expect(jwtClaim('a.!!!.c', ['sub'])).toBeUndefined();
  });

  it('never throws on arbitrary tokens, cookies, key specs and hosts (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const claim = jwtClaim(`x.${Buffer.from(b).toString('base64url')}.y`, ['sub', 'x']);
        expect(claim === undefined || typeof claim === 'string').toBe(true);
        expect(jwtClaim(a, ['sub']) === undefined || a.includes('.')).toBe(true);
        const k = parseKeyPart(a);
        expect(typeof k === 'string' || ['ip', 'header', 'cookie', 'jwt'].includes(k.kind)).toBe(true);
        const h = hostName(a);
        if (h !== undefined) expect(a.toLowerCase()).toContain(h);
      }),
    );
  });

  it('combines parts, and a missing part means no key', () => {
    const k = keyExtractor([{ kind: 'header', name: 'x-api-key' }, { kind: 'ip' }]);
    expect(k(req({ 'x-api-key': 'k1' }), { ip: '10.0.0.1' })).toEqual(['k1', '10.0.0.1']);
    expect(joinKey(['k1', '10.0.0.1'])).toBe('k1\u000010.0.0.1');
    expect(k(req({}), { ip: '10.0.0.1' })).toBeUndefined();
    const j = keyExtractor([parseKeyPart('jwt:sub') as never]);
    expect(j(req({ authorization: `Bearer ${jwt({ sub: 'bob' })}` }), { ip: '' })).toEqual(['bob']);
    expect(j(req({ authorization: 'Basic Ym9iOng=' }), { ip: '' })).toBeUndefined();
    // with verification on, the key reads the verified payload, never the token itself
    const verified = { ip: '', claims: () => ({ sub: 'verified-bob' }) };
    expect(j(req({ authorization: `Bearer ${jwt({ sub: 'forged' })}` }), verified)).toEqual(['verified-bob']);
    expect(
      j(req({ authorization: `Bearer ${jwt({ sub: 'forged' })}` }), { ip: '', claims: () => undefined }),
    ).toBeUndefined();
  });

  it('hashes long values whole: two long keys with a common prefix never share a bucket', () => {
    const k = keyExtractor([{ kind: 'header', name: 'x-api-key' }]);
    const a = k(req({ 'x-api-key': `${'a'.repeat(5000)}1` }), { ip: '' })![0]!;
    const b = k(req({ 'x-api-key': `${'a'.repeat(5000)}2` }), { ip: '' })![0]!;
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThan(MAX_PART);
    expect(a.startsWith('\u0001')).toBe(true);
    expect(k(req({ 'x-api-key': `${'a'.repeat(5000)}1` }), { ip: '' })![0]).toBe(a);
    expect(normalizePart('a'.repeat(MAX_PART))).toBe('a'.repeat(MAX_PART));
  });

  it('different part values always make different bucket keys (property)', () => {
    // header values: visible ASCII and spaces, as llhttp lets through; long and short
    const value = fc.oneof(fc.stringMatching(/^[ -~]{1,40}$/), fc.stringMatching(/^[ -~]{250,300}$/));
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 3 }),
        fc.array(value, { minLength: 1, maxLength: 3 }),
        (x, y) => {
          fc.pre(x.length === y.length);
          const kx = joinKey(x.map(normalizePart));
          const ky = joinKey(y.map(normalizePart));
          expect(kx === ky).toBe(x.every((v, i) => v === y[i]));
        },
      ),
    );
  });

  it('refuses claims with control characters (they would break the key encoding)', () => {
    expect(jwtClaim(jwt({ sub: 'a\u0000b' }), ['sub'])).toBeUndefined();
    expect(jwtClaim(jwt({ sub: '\u0001hash' }), ['sub'])).toBeUndefined();
    expect(jwtClaim(jwt({ sub: { toString: 'x' } }), ['sub', 'toString'])).toBe('x');
    expect(jwtClaim(jwt({ sub: 'x' }), ['constructor'])).toBeUndefined();
  });
});

describe('policies', () => {
  const compile = (p: object) => compilePolicy(zPolicy.parse(p));
  const names = (ps: CompiledPolicy[], r: PolicyRequest, ip = '10.0.0.1', dry = false) => {
    const skipped: string[] = [];
    const checks = collectChecks(ps, r, { ip }, dry, (p, why) => skipped.push(`${p.name}:${why}`));
    return {
      checks: checks.map(
        (c) => `${c.limit.name}@${c.key.replaceAll('\u0000', '|')}${c.enforced ? '' : '(dry)'}`,
      ),
      skipped,
    };
  };

  it('matches by method, host, path prefix and header', () => {
    const p = compile({
      name: 'api',
      match: {
        methods: ['post'],
        hosts: ['api.example.com', '*.api.test'],
        pathPrefix: '/v1/',
        headers: { 'X-Tier': 'free', 'x-any': '*' },
      },
      limits: [{ rate: '1/s' }],
    });
    const h = { host: 'api.example.com:8080', 'x-tier': 'free', 'x-any': '' };
    expect(p.matches(req(h, 'POST', '/v1/x'))).toBe(true);
    expect(p.matches(req({ ...h, host: 'eu.api.test' }, 'POST', '/v1/x'))).toBe(true);
    expect(p.matches(req(h, 'GET', '/v1/x'))).toBe(false);
    expect(p.matches(req({ ...h, host: 'other.example.com' }, 'POST', '/v1/x'))).toBe(false);
    expect(p.matches(req(h, 'POST', '/v2/x'))).toBe(false);
    expect(p.matches(req({ ...h, 'x-tier': 'paid' }, 'POST', '/v1/x'))).toBe(false);
    const { 'x-any': _, ...noAny } = h;
    expect(p.matches(req(noAny, 'POST', '/v1/x'))).toBe(false);
    expect(hostName('[::1]:80')).toBe('::1');
  });

  it('applies every matching policy and every limit, with overrides and allow-lists', () => {
    const ps = [
      compile({ name: 'per-ip', limits: [{ rate: '10/s' }, { rate: '1000/h' }], allow: ['192.168.0.0/16'] }),
      compile({
        name: 'per-key',
        key: 'header:x-api-key',
        limits: [{ rate: '5/s' }],
        overrides: [{ keys: ['paid'], limits: [{ name: 'paid', rate: '100/s', burst: 50 }] }],
        allow: ['internal'],
      }),
    ];
    expect(names(ps, req({ 'x-api-key': 'k1' })).checks).toEqual([
      'per-ip@10.0.0.1',
      'per-ip-2@10.0.0.1',
      'per-key@k1',
    ]);
    expect(names(ps, req({ 'x-api-key': 'paid' })).checks).toContain('paid@paid');
    expect(names(ps, req({ 'x-api-key': 'internal' }))).toEqual({
      checks: ['per-ip@10.0.0.1', 'per-ip-2@10.0.0.1'],
      skipped: ['per-key:allowlisted'],
    });
    expect(names(ps, req({}), '192.168.3.4')).toEqual({
      checks: [],
      skipped: ['per-ip:allowlisted', 'per-key:no_key'],
    });
    expect(names(ps, req({}), '10.0.0.1', true).checks).toEqual([
      'per-ip@10.0.0.1(dry)',
      'per-ip-2@10.0.0.1(dry)',
    ]);
  });

  it('missingKey: shared counts keyless requests under one key', () => {
    const p = compile({ name: 'k', key: 'cookie:sid', missingKey: 'shared', limits: [{ rate: '1/s' }] });
    expect(names([p], req({})).checks).toEqual(['k@|missing']);
  });

  it('limits keep their storage id when unchanged and change signature when the rate changes', () => {
    const a = compile({ name: 'p', limits: [{ rate: '10/s' }] }).limits[0]!;
    const b = compile({ name: 'p', limits: [{ rate: '10/s' }] }).limits[0]!;
    const c = compile({ name: 'p', limits: [{ rate: '20/s' }] }).limits[0]!;
    expect(a.id).toBe(b.id);
    expect(a.signature).toBe(b.signature);
    expect(c.signature).not.toBe(a.signature);
  });

  it('rejects invalid policies naming the field', () => {
    const bad = (v: unknown) => {
      const r = zPolicies.safeParse(v);
      expect(r.success).toBe(false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    expect(bad([{ name: 'a', limits: [{ rate: 'fast' }] }])).toMatch(/0\.limits\.0\.rate: expected a rate/);
    expect(bad([{ name: 'a', limits: [] }])).toMatch(/0\.limits/);
    expect(bad([{ name: 'a', key: 'ip,body', limits: [{ rate: '1/s' }] }])).toMatch(
      /0\.key: unknown key "body"/,
    );
    expect(
      bad([
        { name: 'a', limits: [{ rate: '1/s' }] },
        { name: 'a', limits: [{ rate: '1/s' }] },
      ]),
    ).toMatch(/1\.name: duplicate policy name/);
    expect(bad([{ name: 'a', limits: [{ rate: '1/s', burst: -1 }] }])).toMatch(/0\.limits\.0\.burst/);
    expect(bad([{ name: 'a', limits: [{ rate: '1/s' }], allow: ['10.0.0.0/99'] }])).toMatch(
      /0\.allow\.0: "10\.0\.0\.0\/99" has an invalid prefix length/,
    );
    expect(bad([{ name: 'a', limits: [{ rate: '1/s' }], typo: 1 }])).toMatch(/typo/);
    expect(bad([{ name: 'a', limits: [{ rate: '0.5/s', algorithm: 'sliding-window' }] }])).toMatch(
      /0\.limits\.0\.rate: a sliding window needs at least 1/,
    );
  });
});
