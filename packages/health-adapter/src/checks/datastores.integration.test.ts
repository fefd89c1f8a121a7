import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  freePort,
  type Service,
  selfSignedCert,
  startMemcached,
  startRedis,
  tempDir,
  waitForPort,
} from '@dds/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema } from './check-spec.js';
import { memcachedProbe } from './memcached.js';
import type { CheckFailure, Probe } from './probe.js';
import { redisProbe } from './redis.js';

const redis = (spec: Record<string, unknown>) =>
  redisProbe(checkSchema.parse({ name: 'r', type: 'redis', ...spec }) as never);
const memcached = (address: string) =>
  memcachedProbe(checkSchema.parse({ name: 'm', type: 'memcached', address }) as never);
const runFor = (p: Probe, ms = 2000) => p.run(AbortSignal.timeout(ms));
const failure = async (p: Probe, ms = 2000): Promise<CheckFailure> => {
  try {
    await runFor(p, ms);
  } catch (e) {
    return e as CheckFailure;
  }
  throw new Error('the check passed');
};

/** A TCP server that answers every connection with onConnect (garbage, silence, endless data). */
async function fakeServer(onConnect: (s: Socket) => void): Promise<{ server: Server; address: string }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    onConnect(s);
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, address: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('Redis and memcached checks against real servers', () => {
  const services: Service[] = [];
  const servers: Server[] = [];
  let plain: Service;
  let secured: Service;
  let mc: Service;
  const dir = tempDir('health-redis');

  beforeAll(async () => {
    [plain, secured, mc] = await Promise.all([
      startRedis(),
      startRedis(['--requirepass', 's3cret']),
      startMemcached(),
    ]);
    services.push(plain, secured, mc);
  });
  afterAll(async () => {
    for (const s of services) await s.stop();
    for (const s of servers) s.close();
  });

  it('Redis: PING and INFO pass, role reported', async () => {
    await expect(runFor(redis({ url: `redis://127.0.0.1:${plain.port}` }))).resolves.toBe(
      'PONG, role master',
    );
    await expect(runFor(redis({ url: `redis://127.0.0.1:${plain.port}/3` }))).resolves.toBe(
      'PONG, role master',
    );
  });

  it('Redis: AUTH from a password file; wrong or missing password is an auth failure', async () => {
    writeFileSync(join(dir, 'pw'), 's3cret\n');
    writeFileSync(join(dir, 'bad'), 'nope');
    const url = `redis://127.0.0.1:${secured.port}`;
    await expect(runFor(redis({ url, passwordFile: join(dir, 'pw') }))).resolves.toMatch(/^PONG/);
    const wrong = await failure(redis({ url, passwordFile: join(dir, 'bad') }));
    expect(wrong.reason).toBe('auth');
    expect(wrong.message).toMatch(/^AUTH: (WRONGPASS|ERR invalid password)/);
    const none = await failure(redis({ url }));
    expect(none).toMatchObject({ reason: 'auth' });
    expect(none.message).toMatch(/^NOAUTH/);
    const missing = await failure(redis({ url, passwordFile: join(dir, 'does-not-exist') }));
    expect(missing.message).toBe(`cannot read password file ${join(dir, 'does-not-exist')}: ENOENT`);
  });

  it('Redis over TLS (rediss://): verified against a CA file, refused without it', async () => {
    const cert = selfSignedCert();
    const tlsPort = await freePort();
    const tlsRedis = await startRedis([
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      cert.cert,
      '--tls-key-file',
      cert.key,
      '--tls-auth-clients',
      'no',
    ]);
    services.push(tlsRedis);
    await waitForPort(tlsPort);
    const url = `rediss://127.0.0.1:${tlsPort}`;
    await expect(runFor(redis({ url, tlsCa: cert.cert }))).resolves.toBe('PONG, role master');
    await expect(runFor(redis({ url, tlsInsecure: true }))).resolves.toBe('PONG, role master');
    const untrusted = await failure(redis({ url }));
    expect(untrusted).toMatchObject({
      reason: 'tls',
      message: expect.stringMatching(/^self-signed certificate(;|$)/),
    });
    const noCa = await failure(redis({ url, tlsCa: join(dir, 'missing.pem') }));
    expect(noCa).toMatchObject({
      reason: 'tls',
      message: `cannot read CA file ${join(dir, 'missing.pem')}: ENOENT`,
    });
  });

  it('Redis: a replica whose master is gone fails only when replicaLink is required', async () => {
    const replica = await startRedis(['--replicaof', '127.0.0.1', '1']);
    services.push(replica);
    const url = `redis://127.0.0.1:${replica.port}`;
    await expect(runFor(redis({ url }))).resolves.toBe('PONG, role replica');
    const f = await failure(redis({ url, replicaLink: true }));
    expect(f).toMatchObject({ reason: 'unhealthy', message: 'replica link to 127.0.0.1:1 is down' });
  });

  it('Redis: LOADING, garbage, a huge reply, a silent server, a closed port', async () => {
    const loading = await fakeServer((s) => s.end('-LOADING Redis is loading the dataset in memory\r\n'));
    const http = await fakeServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const huge = await fakeServer((s) => {
      s.write('$999999999\r\n');
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    });
    const silent = await fakeServer(() => {});
    servers.push(loading.server, http.server, huge.server, silent.server);
    expect(await failure(redis({ url: `redis://${loading.address}` }))).toMatchObject({
      reason: 'unhealthy',
      message: 'LOADING Redis is loading the dataset in memory',
    });
    expect(await failure(redis({ url: `redis://${http.address}` }))).toMatchObject({
      reason: 'protocol',
      message: 'not a Redis reply (Protocol error, got "H" as reply type byte)',
    });
    expect(await failure(redis({ url: `redis://${huge.address}` }))).toMatchObject({
      reason: 'protocol',
      message: `reply larger than ${1 << 20} bytes`,
    });
    const t0 = Date.now();
    expect(await failure(redis({ url: `redis://${silent.address}` }), 300)).toMatchObject({
      reason: 'timeout',
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    // memcached speaks no RESP: a clear protocol error, not a hang
    expect(await failure(redis({ url: `redis://127.0.0.1:${mc.port}` }))).toMatchObject({
      reason: 'protocol',
    });
    expect(await failure(redis({ url: 'redis://127.0.0.1:1' }))).toMatchObject({ reason: 'connect' });
  });

  it('memcached: version passes; Redis, garbage and silence fail clearly', async () => {
    await waitForPort(mc.port);
    await expect(runFor(memcached(`127.0.0.1:${mc.port}`))).resolves.toMatch(/^memcached \d+\.\d+/);
    // Redis answers "version" with an error line
    const r = await failure(memcached(`127.0.0.1:${plain.port}`));
    expect(r.reason).toBe('protocol');
    expect(r.message).toMatch(/^not a memcached reply: "-ERR unknown command/);
    const junk = await fakeServer((s) => s.write(Buffer.alloc(2000, 0xff)));
    servers.push(junk.server);
    expect(await failure(memcached(junk.address))).toMatchObject({
      reason: 'protocol',
      message: 'not a memcached reply (no line end in 1 KiB)',
    });
    const stop = await startMemcached();
    await stop.stop(); // the server has exited: its port refuses
    expect(await failure(memcached(`127.0.0.1:${stop.port}`))).toMatchObject({ reason: 'connect' });
  });
});
