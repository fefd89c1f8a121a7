import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, freePorts, run, type Service, selfSignedCert, startRedis, tempDir } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { RawClient, resp } from '@dds/test-support/shard-ambassador/raw-client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

interface Readyz {
  status: string;
  checks: Record<string, { ready: boolean; reason?: string }>;
}

const readyz = async (amb: Ambassador): Promise<{ code: number; body: Readyz }> => {
  const r = await fetch(`${amb.admin}/readyz`);
  return { code: r.status, body: (await r.json()) as Readyz };
};

/** Polls /readyz until it answers `code`; returns its body. */
async function readyzUntil(amb: Ambassador, code: number, timeoutMs = 20_000): Promise<Readyz> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await readyz(amb);
    if (r.code === code) return r.body;
    if (Date.now() > end) throw new Error(`/readyz did not answer ${code}: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('encrypted and ACL-protected shards: tls: and redis_username (real redis-server --tls-port, ACL user)', () => {
  const cert = selfSignedCert();
  const otherCa = selfSignedCert();
  const shards: Service[] = [];
  let plainAuth: Service;
  let amb: Ambassador;
  let good: number;
  let wrongPass: number;
  let wrongCa: number;
  let plainWrong: number;
  const tls = { ca_file: cert.cert, cert_file: cert.cert, key_file: cert.key };
  const pools = (overrides: Record<string, Record<string, unknown>> = {}) => {
    const servers = shards.map((s, i) => `127.0.0.1:${s.port}:1 s${i}`);
    const base = { redis: true, hash: 'md5', redis_username: 'app', redis_auth: 'app-pass', tls, servers };
    return {
      good: { ...base, listen: `127.0.0.1:${good}` },
      wrongpass: { ...base, listen: `127.0.0.1:${wrongPass}`, redis_auth: 'not-the-pass' },
      wrongca: { ...base, listen: `127.0.0.1:${wrongCa}`, tls: { ...tls, ca_file: otherCa.cert } },
      plainwrong: {
        listen: `127.0.0.1:${plainWrong}`,
        redis: true,
        redis_auth: 'guess',
        servers: [`127.0.0.1:${plainAuth.port}:1 p0`],
      },
      ...overrides,
    };
  };

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const [port] = await freePorts(1);
      shards.push(
        await startRedis(
          [
            '--port',
            '0',
            '--tls-port',
            String(port),
            '--tls-cert-file',
            cert.cert,
            '--tls-key-file',
            cert.key,
            '--tls-ca-cert-file',
            cert.cert,
            // an ACL user; the default user is off, so only app's credentials get in
            '--user',
            'app',
            'on',
            '>app-pass',
            '~*',
            '+@all',
            '--user',
            'default',
            'off',
          ],
          port,
        ),
      );
    }
    plainAuth = await startRedis(['--requirepass', 'sekret']);
    [good, wrongPass, wrongCa, plainWrong] = (await freePorts(4)) as [number, number, number, number];
    amb = await startAmbassador(pools(), [], false);
  });
  afterAll(async () => {
    await amb?.stop();
    await Promise.all([...shards, plainAuth].map((s) => s?.stop()));
  });

  it('serves through TLS as the ACL user: keys spread over both shards, read back directly over TLS', async () => {
    const c = await RawClient.open(good);
    expect(await c.lines(resp('AUTH', 'app', 'app-pass'), 1)).toEqual(['+OK']);
    const keys = Array.from({ length: 40 }, (_, i) => `tls:${i}`);
    expect(await c.lines(Buffer.concat(keys.map((k) => resp('SET', k, `v-${k}`))), keys.length)).toEqual(
      keys.map(() => '+OK'),
    );
    const got = await c.lines(resp('MGET', ...keys), 1 + 2 * keys.length);
    expect(got.filter((_, i) => i > 0 && i % 2 === 0)).toEqual(keys.map((k) => `v-${k}`));
    c.close();
    let onShards = 0;
    for (const s of shards) {
      const direct = new Redis({
        port: s.port,
        username: 'app',
        password: 'app-pass',
        tls: { ca: cert.pem, cert: cert.pem, key: cert.keyPem, servername: 'localhost' },
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      await direct.connect();
      const here = (await direct.mget(...keys)).filter((v) => v !== null).length;
      expect(here).toBeGreaterThan(0);
      onShards += here;
      direct.disconnect();
    }
    expect(onShards).toBe(keys.length);
  });

  it('a wrong password or CA: /readyz 503 naming pool, server and cause; clients get the cause; a fixed config is ready again', async () => {
    const body = await readyzUntil(amb, 503);
    const reason = body.checks['shard-ambassador']?.reason ?? '';
    expect(reason).toMatch(
      /pool wrongpass: server s[01] \(127\.0\.0\.1:\d+\) rejected the proxy's AUTH as user "app" \(redis_username, redis_auth\): WRONGPASS/,
    );
    expect(reason).toMatch(
      /pool wrongca: server s[01] \(127\.0\.0\.1:\d+\) TLS handshake failed: .*self.signed/i,
    );
    expect(reason).toMatch(
      /pool plainwrong: server p0 \(127\.0\.0\.1:\d+\) rejected the proxy's AUTH \(redis_auth\): WRONGPASS/,
    );
    expect(amb.proc.stdout()).toMatch(/server handshake failed; the pool is not ready/);

    // what a client of each broken pool is told (no more "protocol error from server")
    const ask = async (port: number, password: string) => {
      const c = await RawClient.open(port);
      const [auth, got] = await c.lines(Buffer.concat([resp('AUTH', 'app', password), resp('GET', 'x')]), 2);
      c.close();
      expect(auth).toBe('+OK');
      return got!;
    };
    expect(await ask(wrongPass, 'not-the-pass')).toMatch(
      /^-ERR server s[01] \(127\.0\.0\.1:\d+\) rejected the proxy's AUTH as user "app" \(redis_username, redis_auth\): WRONGPASS invalid username-password pair/,
    );
    expect(await ask(wrongCa, 'app-pass')).toMatch(
      /^-ERR server s[01] \(127\.0\.0\.1:\d+\) unavailable: TLS handshake failed: /,
    );
    const p = await RawClient.open(plainWrong);
    const [, plain] = await p.lines(Buffer.concat([resp('AUTH', 'guess'), resp('GET', 'x')]), 2);
    p.close();
    expect(plain).toMatch(
      /^-ERR server p0 \(127\.0\.0\.1:\d+\) rejected the proxy's AUTH \(redis_auth\): WRONGPASS/,
    );

    // fixed by a reload: the pools' connections are replaced and checked again
    await amb.rewrite(
      pools({
        wrongpass: { ...pools().good, listen: `127.0.0.1:${wrongPass}` },
        wrongca: { ...pools().good, listen: `127.0.0.1:${wrongCa}` },
        plainwrong: { ...pools().plainwrong, redis_auth: 'sekret' },
      }),
    );
    await readyzUntil(amb, 200);
    const q = await RawClient.open(plainWrong);
    expect(await q.lines(Buffer.concat([resp('AUTH', 'sekret'), resp('SET', 'x', '1')]), 2)).toEqual([
      '+OK',
      '+OK',
    ]);
    q.close();
  });

  it('-t checks the tls files as start does: missing, mismatched, not PEM; and the key needs its cert', async () => {
    const dir = tempDir('tls-conf');
    const check = async (tlsBlock: Record<string, unknown>) => {
      const f = join(dir, `n${Math.random().toString(36).slice(2)}.yml`);
      writeFileSync(
        f,
        stringify({ bad: { listen: '127.0.0.1:1', redis: true, tls: tlsBlock, servers: ['127.0.0.1:2:1'] } }),
      );
      return run(process.execPath, [bin('shard-ambassador'), '-t', '-c', f]);
    };
    const missing = await check({ ca_file: join(dir, 'nope.pem') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/pools\.bad\.tls\.ca_file: cannot read CA file .*nope\.pem: ENOENT/);
    const mismatch = await check({ cert_file: cert.cert, key_file: otherCa.key });
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(
      /pools\.bad\.tls\.key_file: private key file .* does not match the certificate/,
    );
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const garbage = await check({ ca_file: notPem });
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/pools\.bad\.tls\.ca_file: CA file .*not\.pem holds no PEM block/);
    const half = await check({ cert_file: cert.cert });
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/pools\.bad\.tls\.key_file: cert_file and key_file go together/);
    const ok = await check({
      ca_file: cert.cert,
      cert_file: cert.cert,
      key_file: cert.key,
      server_name: 'localhost',
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});
