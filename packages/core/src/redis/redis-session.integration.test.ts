import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Service, startRedis, tempDir } from '@dds/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisCommands,
  RedisConnections,
  RedisReplyError,
  RedisSessionError,
  redisSession,
  StaleRedisConnection,
} from './redis-session.js';
import { parseRedisUrl, type RedisTarget } from './redis-target.js';

const dir = tempDir('redis-session');
let redis: Service;
let secured: Service;
const target = (port: number, extra: Partial<RedisTarget> = {}): RedisTarget => ({
  ...(parseRedisUrl(`redis://127.0.0.1:${port}`) as RedisTarget),
  ...extra,
});
const opts = { timeoutMs: 5000, maxBytes: 1 << 20 };
const clientId = (r: RedisCommands) => r.call('CLIENT', 'ID');
const cli = async (port: number, ...args: string[]) =>
  (await run('redis-cli', ['-p', String(port), '--no-auth-warning', ...args])).stdout.trim();
/** connections the server accepted so far (redis-cli's own included) */
const accepted = async (port: number, ...auth: string[]) =>
  Number(/total_connections_received:(\d+)/.exec(await cli(port, ...auth, 'INFO', 'stats'))![1]);
const connected = async (port: number, ...auth: string[]) =>
  Number(/connected_clients:(\d+)/.exec(await cli(port, ...auth, 'INFO', 'clients'))![1]);
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  [redis, secured] = await Promise.all([
    startRedis(),
    startRedis(['--user', 'default', 'off', '--user', 'app', 'on', '>s3cret', '~*', '&*', '+@all']),
  ]);
  await cli(redis.port, '-n', '2', 'SET', 'big', 'x'.repeat(2000));
});
afterAll(async () => {
  await Promise.all([redis?.stop(), secured?.stop()]);
});

describe('redisSession (one conversation, then closed)', () => {
  it('talks to the server: commands, pipelines with error replies as values, SELECT', async () => {
    const got = await redisSession(target(redis.port, { db: 2 }), opts, async (r) => {
      expect(r.reused).toBe(false);
      return [await r.call('PING'), await r.pipeline([['STRLEN', 'big'], ['NOSUCH']])];
    });
    expect(got[0]).toBe('PONG');
    expect((got[1] as unknown[])[0]).toBe(2000);
    expect((got[1] as unknown[])[1]).toBeInstanceOf(RedisReplyError);
    await expect(redisSession(target(redis.port), opts, (r) => r.call('NOSUCH'))).rejects.toThrow(
      /^ERR unknown command/,
    );
  });

  it('AUTH as the ACL user; a wrong password, a missing one and a bad database say so', async () => {
    const app = target(secured.port, { username: 'app', password: 's3cret' });
    await expect(redisSession(app, opts, (r) => r.call('PING'))).resolves.toBe('PONG');
    await expect(
      redisSession({ ...app, password: 'nope' }, opts, (r) => r.call('PING')),
    ).rejects.toMatchObject({ reason: 'auth', message: expect.stringMatching(/^WRONGPASS/) });
    await expect(redisSession(target(secured.port), opts, (r) => r.call('PING'))).rejects.toThrow(/^NOAUTH/);
    await expect(
      redisSession(target(redis.port, { db: 99 }), opts, (r) => r.call('PING')),
    ).rejects.toMatchObject({ reason: 'config', message: expect.stringMatching(/^SELECT: ERR DB index/) });
    await expect(
      redisSession(target(redis.port, { passwordFile: join(dir, 'missing') }), opts, (r) => r.call('PING')),
    ).rejects.toMatchObject({
      reason: 'config',
      message: expect.stringMatching(/cannot read password file/),
    });
  });

  it('bounds what the server sends and the time it takes', async () => {
    await expect(
      redisSession(target(redis.port, { db: 2 }), { ...opts, maxBytes: 1000 }, (r) => r.call('GET', 'big')),
    ).rejects.toMatchObject({ reason: 'too_large', message: 'reply larger than 1000 bytes' });
    const t0 = Date.now();
    await expect(
      redisSession(target(redis.port), { ...opts, timeoutMs: 200 }, (r) => r.call('BLPOP', 'nothing', '5')),
    ).rejects.toMatchObject({ reason: 'timeout', message: 'no complete reply within 200ms' });
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect(redisSession(target(1), opts, (r) => r.call('PING'))).rejects.toMatchObject({
      reason: 'unreachable',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});

describe('RedisConnections (one kept connection per target)', () => {
  it('sessions on a target reuse one connection; the server accepts one', async () => {
    const kept = new RedisConnections({ maxIdle: 4, idleMs: 60_000 });
    const before = await accepted(redis.port);
    const ids: unknown[] = [];
    const reused: boolean[] = [];
    for (let i = 0; i < 5; i++)
      await kept.session(target(redis.port), opts, async (r) => {
        reused.push(r.reused);
        ids.push(await clientId(r));
      });
    expect(new Set(ids).size).toBe(1);
    expect(reused).toEqual([false, true, true, true, true]);
    // redis-cli's own connection (INFO) is the other one
    expect((await accepted(redis.port)) - before).toBe(2);
    expect(kept.size).toBe(1);
    kept.close();
    expect(kept.size).toBe(0);
  });

  it('a changed password file opens a new connection and closes the old one', async () => {
    const pw = join(dir, 'pw');
    writeFileSync(pw, 's3cret\n');
    const app = target(secured.port, { username: 'app', passwordFile: pw });
    const kept = new RedisConnections({ maxIdle: 4, idleMs: 60_000 });
    const first = await kept.session(app, opts, clientId);
    expect(await kept.session(app, opts, clientId)).toBe(first);
    writeFileSync(pw, 'wrong\n');
    await expect(kept.session(app, opts, clientId)).rejects.toMatchObject({ reason: 'auth' });
    writeFileSync(pw, 's3cret\n');
    const second = await kept.session(app, opts, clientId);
    expect(second).not.toBe(first);
    const auth = ['--user', 'app', '--pass', 's3cret'];
    await until(async () => (await connected(secured.port, ...auth)) === 2, 'the old connection to close');
    kept.close();
  });

  it('a kept connection the server closed is replaced within the same session', async () => {
    const kept = new RedisConnections({ maxIdle: 4, idleMs: 60_000 });
    const first = await kept.session(target(redis.port), opts, clientId);
    await cli(redis.port, 'CLIENT', 'KILL', 'ID', String(first));
    const second = await kept.session(target(redis.port), opts, async (r) => {
      expect(r.reused).toBe(false);
      return clientId(r);
    });
    expect(second).not.toBe(first);
    kept.close();
  });

  it('StaleRedisConnection runs the session again on a fresh connection', async () => {
    const kept = new RedisConnections({ maxIdle: 4, idleMs: 60_000 });
    const first = await kept.session(target(redis.port), opts, clientId);
    const seen: boolean[] = [];
    const second = await kept.session(target(redis.port), opts, async (r) => {
      seen.push(r.reused);
      if (r.reused) throw new StaleRedisConnection('not the primary any more');
      return clientId(r);
    });
    expect(seen).toEqual([true, false]);
    expect(second).not.toBe(first);
    kept.close();
  });

  it('idle connections close after idleMs; at most maxIdle targets are kept', async () => {
    const base = await connected(redis.port);
    const brief = new RedisConnections({ maxIdle: 4, idleMs: 50 });
    await brief.session(target(redis.port), opts, clientId);
    await until(async () => brief.size === 0 && (await connected(redis.port)) === base, 'the idle close');
    const few = new RedisConnections({ maxIdle: 2, idleMs: 60_000 });
    for (const db of [0, 1, 2]) await few.session(target(redis.port, { db }), opts, clientId);
    expect(few.size).toBe(2);
    await until(async () => (await connected(redis.port)) === base + 2, 'the least recently used to close');
    few.close();
  });

  it('concurrent sessions each get a connection; one is kept afterwards', async () => {
    const base = await connected(redis.port);
    const kept = new RedisConnections({ maxIdle: 4, idleMs: 60_000 });
    const ids = await Promise.all([1, 2, 3].map(() => kept.session(target(redis.port), opts, clientId)));
    expect(new Set(ids).size).toBe(3);
    expect(kept.size).toBe(1);
    await until(async () => (await connected(redis.port)) === base + 1, 'the extra connections to close');
    kept.close();
  });

  it('the byte bound is per session; a session over it fails and its connection is not kept', async () => {
    const kept = new RedisConnections({ maxIdle: 4, idleMs: 60_000 });
    const t = target(redis.port, { db: 2 });
    const small = { ...opts, maxBytes: 3000 };
    const a = await kept.session(t, small, async (r) => [await clientId(r), await r.call('GET', 'big')]);
    const b = await kept.session(t, small, async (r) => [await clientId(r), await r.call('GET', 'big')]);
    expect(b[0]).toBe(a[0]);
    const over = kept.session(t, small, async (r) => {
      await r.call('GET', 'big');
      return r.call('GET', 'big');
    });
    await expect(over).rejects.toBeInstanceOf(RedisSessionError);
    await expect(over).rejects.toMatchObject({ reason: 'too_large' });
    expect(kept.size).toBe(0);
    kept.close();
  });
});
