import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSecretKey, REDACTED, redact, redactUrl } from './redact.js';

describe('isSecretKey', () => {
  it('names secrets, not the files or settings around them', () => {
    for (const k of [
      'password',
      'redisPassword',
      'mysql_password',
      'passwd',
      'apiToken',
      'token',
      'jwtSecret',
      'secret',
      'credentials',
      'apiKey',
      'api_key',
      'x-api-key',
      'authorization',
      'redis_auth',
      'auth',
    ])
      expect(isSecretKey(k), k).toBe(true);
    for (const k of [
      'clientAuth',
      'passwordFile',
      'redisPasswordFile',
      'passwordEnv',
      'tokenFile',
      'adminTokenFile',
      'secretFile',
      'secretName',
      'keyFile',
      'author',
      'authority',
      'listen',
      'redis',
    ])
      expect(isSecretKey(k), k).toBe(false);
  });
});

describe('redactUrl', () => {
  it('masks the password and secret-named query parameters, nothing else', () => {
    expect(redactUrl('redis://:hunter2@redis.default.svc:6379/2')).toBe(
      'redis://:<redacted>@redis.default.svc:6379/2',
    );
    expect(redactUrl('rediss://app:hunter2@10.0.0.1:6380')).toBe('rediss://app:<redacted>@10.0.0.1:6380');
    expect(redactUrl('mysql://exporter@db:3306?tls=true')).toBe('mysql://exporter@db:3306?tls=true');
    expect(redactUrl('redis://redis:6379')).toBe('redis://redis:6379');
    expect(redactUrl('https://sink/ingest?token=abc&tenant=t1&api_key=k')).toBe(
      'https://sink/ingest?token=<redacted>&tenant=t1&api_key=<redacted>',
    );
  });

  it('never leaves the password of a URL in the output (property)', () => {
    const part = fc.stringMatching(/^[A-Za-z0-9._~-]{1,20}$/);
    fc.assert(
      fc.property(part, part, part, fc.integer({ min: 1, max: 65535 }), (user, pass, host, port) => {
        const secret = `Pw${pass}Z`;
        const out = redactUrl(`redis://${user}:${secret}@${host}:${port}/0`);
        expect(out).toBe(`redis://${user}:${REDACTED}@${host}:${port}/0`);
      }),
    );
  });
});

describe('redact', () => {
  it('shows non-secret settings whole: modes, hosts, a URL without a password', () => {
    const config = {
      clientAuth: 'require',
      redis: 'redis://redis.default.svc:6379',
      metricsUrl: 'http://user:pw@scrape:9000/metrics',
      redisPasswordFile: '/secrets/redis',
      nested: { apiToken: 'x', keyFile: '/k', list: ['redis://:pw@a:1', 'plain'] },
      limit: 3,
    };
    expect(redact(config, new Set(['redis']))).toEqual({
      clientAuth: 'require',
      redis: 'redis://redis.default.svc:6379',
      metricsUrl: 'http://user:<redacted>@scrape:9000/metrics',
      redisPasswordFile: '/secrets/redis',
      nested: { apiToken: REDACTED, keyFile: '/k', list: ['redis://:<redacted>@a:1', 'plain'] },
      limit: 3,
    });
  });

  it('secret paths: URLs keep all but the password, other values and list items are replaced', () => {
    const shown = redact(
      {
        redis: 'redis://:pw@r:6379',
        password: 'pw',
        header: ['Authorization: Bearer x', 'X-Tenant: 1'],
        empty: '',
      },
      new Set(['redis', 'header', 'empty']),
    );
    expect(shown).toEqual({
      redis: 'redis://:<redacted>@r:6379',
      password: REDACTED,
      header: [REDACTED, REDACTED],
      empty: '',
    });
  });

  it('does not change its input', () => {
    const config = Object.freeze({ password: 'pw', nested: Object.freeze({ token: 't' }) });
    redact(config);
    expect(config).toEqual({ password: 'pw', nested: { token: 't' } });
  });
});
