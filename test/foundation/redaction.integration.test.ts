// What --print-config (and /config, which shows the same) hides and what it keeps, through the real
// binaries: only secrets (passwords inside URLs, secret-named and secret-marked values) are hidden;
// settings an operator needs to read, such as a TLS client-auth mode or a Redis host, stay whole.

import { bin, run } from '@dds/test-support';
import { describe, expect, it } from 'vitest';

const printConfig = async (component: string, args: string[]) => {
  const r = await run(process.execPath, [bin(component), '--print-config', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
};

describe('--print-config shows what is not secret', () => {
  it('tls-sidecar: the client-auth mode and file paths are shown', async () => {
    const out = await printConfig('tls-sidecar', [
      '--cert',
      '/etc/tls/tls.crt',
      '--key',
      '/etc/tls/tls.key',
      '--client-auth',
      'require',
      '--client-ca',
      '/etc/tls/ca.crt',
    ]);
    expect(out).toMatch(/^clientAuth: require$/m);
    expect(out).toMatch(/^key: \/etc\/tls\/tls\.key$/m);
  });

  it('metrics-adapter: URLs keep scheme, user, host and port; only the password is hidden', async () => {
    const out = await printConfig('metrics-adapter', [
      '--redis',
      'redis://:hunter2@redis.default.svc:6379',
      '--mysql',
      'mysql://exporter:s3cret@db:3306?tls=true',
      '--redis-password-file',
      '/secrets/redis',
    ]);
    expect(out).toMatch(/^redis: redis:\/\/:<redacted>@redis\.default\.svc:6379$/m);
    expect(out).toMatch(/^mysql: mysql:\/\/exporter:<redacted>@db:3306\?tls=true$/m);
    expect(out).toMatch(/^redisPasswordFile: \/secrets\/redis$/m);
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('s3cret');
  });

  it('log-adapter: each --http-header is hidden, the sink URL is not', async () => {
    const out = await printConfig('log-adapter', [
      '-i',
      '/var/log/app/*.log',
      '-o',
      'http://collector:4318/ingest',
      '--http-header',
      'Authorization: Bearer s3cr3t',
    ]);
    expect(out).toContain('- http://collector:4318/ingest');
    expect(out).toMatch(/^httpHeader:\n {2}- <redacted>$/m);
    expect(out).not.toContain('s3cr3t');
  });
});
