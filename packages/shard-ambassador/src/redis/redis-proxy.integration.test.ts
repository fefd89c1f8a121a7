import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { freePorts, run, type Service, startRedis } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { RawClient, resp } from '@dds/test-support/shard-ambassador/raw-client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('redis pools through the ambassador (real redis-server shards)', () => {
  const shards: Service[] = [];
  const authShards: Service[] = [];
  let amb: Ambassador;
  let plain: number;
  let authed: number;
  let limited: number;
  const clients: Redis[] = [];
  const client = async (port: number, opts: Record<string, unknown> = {}) => {
    const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, ...opts });
    clients.push(c);
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) shards.push(await startRedis());
    for (let i = 0; i < 2; i++) authShards.push(await startRedis(['--requirepass', 'sekret']));
    [plain, authed, limited] = await freePorts(3);
    amb = await startAmbassador(
      {
        plain: {
          listen: `127.0.0.1:${plain}`,
          redis: true,
          redis_db: 3,
          hash: 'fnv1a_64',
          hash_tag: '{}',
          servers: shards.map((s, i) => `127.0.0.1:${s.port}:1 shard${i}`),
        },
        authed: {
          listen: `127.0.0.1:${authed}`,
          redis: true,
          redis_auth: 'sekret',
          servers: authShards.map((s) => `127.0.0.1:${s.port}:1`),
        },
        limited: {
          listen: `127.0.0.1:${limited}`,
          redis: true,
          client_connections: 2,
          servers: [`127.0.0.1:${shards[0]!.port}:1`],
        },
      },
      ['--max-request-size', '1048576'],
    );
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await amb?.stop();
    await Promise.all([...shards, ...authShards].map((s) => s.stop()));
  });

  it('redis-cli works through it', async () => {
    const cli = (...a: string[]) => run('redis-cli', ['-p', String(plain), ...a]);
    expect((await cli('set', 'cli:k', 'hello')).stdout.trim()).toBe('OK');
    expect((await cli('get', 'cli:k')).stdout.trim()).toBe('hello');
    expect((await cli('ping')).stdout.trim()).toBe('PONG');
    const keys = await cli('keys', '*');
    expect(keys.stdout).toMatch(/'KEYS' is not supported through dds-shard-ambassador/);
  });

  it('ioredis: single and multi-key commands, merged in the client order', async () => {
    const r = await client(plain);
    const keys = Array.from({ length: 200 }, (_, i) => `multi:${i}`);
    expect(await r.mset(...keys.flatMap((k) => [k, `v${k}`]))).toBe('OK');
    const got = await r.mget(...keys, 'missing:1');
    expect(got).toEqual([...keys.map((k) => `v${k}`), null]);
    // the keys really are spread over all shards, in redis_db 3
    const perShard = await Promise.all(
      shards.map(async (s) => {
        const d = new Redis({ port: s.port, db: 3, lazyConnect: true });
        await d.connect();
        const n = await d.dbsize();
        d.disconnect();
        return n;
      }),
    );
    expect(
      perShard.filter((n) => n > 0),
      `keys per shard ${perShard}`,
    ).toHaveLength(3);
    expect(await r.exists(...keys.slice(0, 50), 'missing:2')).toBe(50);
    expect(await r.touch(...keys.slice(0, 10))).toBe(10);
    expect(await r.unlink(...keys.slice(0, 20))).toBe(20);
    expect(await r.del(...keys)).toBe(180);
    expect(await r.mget(...keys.slice(0, 3))).toEqual([null, null, null]);
    expect(await r.incr('counter')).toBe(1);
    await r.hset('h', 'f', 'v');
    expect(await r.hgetall('h')).toEqual({ f: 'v' });
    expect(await r.echo('hi')).toBe('hi');
    expect(await r.select(0)).toBe('OK');
    await expect(r.select(1)).rejects.toThrow(/SELECT is not supported/);
    expect(await r.info()).toMatch(/redis_mode:proxy/);
  });

  it('pipelining: 5000 commands, replies in order', async () => {
    const r = await client(plain);
    const p = r.pipeline();
    for (let i = 0; i < 2500; i++) p.set(`pipe:${i}`, String(i));
    for (let i = 0; i < 2500; i++) p.get(`pipe:${i}`);
    const res = await p.exec();
    expect(res!.slice(2500).map(([, v]) => v)).toEqual(Array.from({ length: 2500 }, (_, i) => String(i)));
    expect(res!.every(([e]) => e === null)).toBe(true);
  });

  it('large binary values over all shards, pipelined and via MGET: every byte back, in order', async () => {
    const r = await client(plain);
    // sizes around the copy paths (64 bytes) and the 64 KiB read buffer, up to ~900 KB
    const sizes = [0, 1, 63, 64, 65, 1000, 65_535, 65_536, 65_537, 200_000, 900_000];
    const values = Array.from({ length: 33 }, (_, i) => randomBytes(sizes[i % sizes.length]!));
    const keys = values.map((_, i) => `big:${i}`);
    const p = r.pipeline();
    for (let i = 0; i < keys.length; i++) p.set(keys[i]!, values[i]!);
    for (const k of keys) p.getBuffer(k);
    const res = await p.exec();
    expect(res!.every(([e]) => e === null)).toBe(true);
    const got = res!.slice(keys.length).map(([, v]) => v as Buffer);
    expect(got.map((v, i) => v.equals(values[i]!))).toEqual(values.map(() => true));
    const merged = await r.mgetBuffer(...keys);
    expect(merged.map((v, i) => v?.equals(values[i]!))).toEqual(values.map(() => true));
  });

  it('many split MGET / EXISTS / DEL from several clients at once: each merged reply is its own', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `split:${i}`);
    const setup = await client(plain);
    await setup.mset(...keys.flatMap((k, i) => [k, `v${i}-${'x'.repeat(i * 37)}`]));
    const value = (k: string) => {
      const i = Number(k.slice(6));
      return `v${i}-${'x'.repeat(i * 37)}`;
    };
    const rounds = await Promise.all(
      [0, 1, 2, 3].map(async (c) => {
        const r = await client(plain);
        const p = r.pipeline();
        const asked: string[][] = [];
        for (let j = 0; j < 150; j++) {
          // a different subset and order each time, with a key that does not exist
          const pick = keys.filter((_, i) => (i * 7 + j * 13 + c) % 5 < 2).reverse();
          asked.push(pick);
          p.mget(...pick, 'split:none');
          p.exists(...pick, 'split:none');
        }
        const res = await p.exec();
        return { res: res!, asked };
      }),
    );
    for (const { res, asked } of rounds) {
      expect(res.every(([e]) => e === null)).toBe(true);
      asked.forEach((pick, j) => {
        expect(res[2 * j]![1]).toEqual([...pick.map(value), null]);
        expect(res[2 * j + 1]![1]).toBe(pick.length);
      });
    }
    expect(await setup.del(...keys, 'split:none')).toBe(keys.length);
    expect(await setup.exists(...keys)).toBe(0);
  });

  it('clients that vanish with replies outstanding do not disturb the replies of others', async () => {
    const setup = await client(plain);
    const keys = Array.from({ length: 200 }, (_, i) => `gone:${i}`);
    await setup.mset(...keys.flatMap((k) => [k, `value-of-${k}`]));
    for (let round = 0; round < 5; round++) {
      // a client pipelines GETs and MGETs and is gone before the replies come back
      const quitter = connect(plain, '127.0.0.1');
      await new Promise((r) => quitter.once('connect', r));
      const burst: Buffer[] = [];
      for (const k of keys) burst.push(resp('GET', k), resp('MGET', k, keys[(keys.indexOf(k) + 7) % 200]!));
      quitter.write(Buffer.concat(burst));
      quitter.destroy();
      const r = await client(plain);
      const p = r.pipeline();
      for (const k of keys) p.get(k);
      p.mget(...keys.slice(0, 50));
      const res = await p.exec();
      expect(res!.slice(0, 200).map(([, v]) => v)).toEqual(keys.map((k) => `value-of-${k}`));
      expect(res![200]![1]).toEqual(keys.slice(0, 50).map((k) => `value-of-${k}`));
    }
  });

  it('a client that stops reading is paused, others are served; once it reads, it gets every reply', async () => {
    const r = await client(plain);
    const value = randomBytes(800_000);
    await r.set('slow:big', value);
    await r.set('slow:small', 'fine');
    const slow = connect(plain, '127.0.0.1');
    await new Promise((res) => slow.once('connect', res));
    slow.pause();
    const n = 40; // 32 MB of replies, far above the 4 MB output high-water mark
    slow.write(Buffer.concat(Array.from({ length: n }, () => resp('GET', 'slow:big'))));
    await new Promise((res) => setTimeout(res, 300));
    // another client is not held up by the stuck one
    expect(await r.get('slow:small')).toBe('fine');
    const expected = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
    const received: Buffer[] = [];
    let size = 0;
    await new Promise<void>((res) => {
      slow.on('data', (c: Buffer) => {
        received.push(c);
        size += c.length;
        if (size >= n * expected.length) res();
      });
      slow.resume();
    });
    slow.destroy();
    const all = Buffer.concat(received);
    expect(all.length).toBe(n * expected.length);
    for (let i = 0; i < n; i++)
      expect(all.subarray(i * expected.length, (i + 1) * expected.length).equals(expected)).toBe(true);
  });

  it('EVAL on one shard runs; across shards it is refused clearly', async () => {
    const r = await client(plain);
    const script = "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[2])";
    await r.set('{u1}:b', 'B');
    expect(await r.eval(script, 2, '{u1}:a', '{u1}:b', 'x')).toBe('B');
    expect(await r.get('{u1}:a')).toBe('x');
    // find two keys on different shards
    const a = 'spread:a';
    let b = '';
    for (let i = 0; i < 100 && !b; i++) {
      try {
        await r.eval(script, 2, a, `spread:${i}`, 'x');
      } catch (e) {
        expect((e as Error).message).toMatch(/^CROSSSLOT/);
        b = `spread:${i}`;
      }
    }
    expect(b).not.toBe('');
    await expect(r.eval('return 1', 0)).rejects.toThrow(/without keys cannot be routed/);
    expect(await r.rename('{t}x', '{t}y').catch((e: Error) => e.message)).toMatch(/no such key/i);
  });

  it('commands that cannot work through a sharding proxy get clear errors, never a hang', async () => {
    const r = await client(plain);
    for (const [cmd, why] of [
      ['keys', /whole keyspace/],
      ['scan', /whole keyspace/],
      ['multi', /transactions cannot span shards/],
      ['blpop', /blocking commands/],
      ['subscribe', /pub\/sub/],
      ['flushall', /whole keyspace/],
      ['config', /administration/],
      ['nosuchcommand', /unsupported command/],
    ] as const) {
      const c = await RawClient.open(plain);
      const [line] = await c.lines(resp(cmd, 'x', '0'), 1);
      expect(line, cmd).toMatch(why);
      c.close();
    }
    expect(await r.ping()).toBe('PONG');
  });

  it('AUTH: clients must authenticate, the proxy authenticates to the servers', async () => {
    const c = await RawClient.open(authed);
    expect(await c.lines(resp('GET', 'a'), 1)).toEqual(['-NOAUTH Authentication required.']);
    expect((await c.lines(resp('AUTH', 'wrong'), 1))[0]).toMatch(/^-WRONGPASS/);
    expect(await c.lines(resp('AUTH', 'sekret'), 1)).toEqual(['+OK']);
    expect(
      await c.lines(Buffer.concat([resp('SET', 'a', '1'), resp('SET', 'b', '2'), resp('MGET', 'a', 'b')]), 7),
    ).toEqual(['+OK', '+OK', '*2', '$1', '1', '$1', '2']);
    c.close();
    const r = await client(authed, { password: 'sekret' });
    expect(await r.get('a')).toBe('1');
  });

  it('malformed bytes and oversized requests: error, that client closed, others unaffected', async () => {
    const good = await client(plain);
    const bad = await RawClient.open(plain);
    const reply = await bad.exchange('*2\r\n$3\r\nGET\r\n$x\r\n', () => false, 2000);
    expect(reply.toString()).toMatch(/^-ERR Protocol error: invalid bulk length/);
    expect(bad.closed).toBe(true);
    const big = await RawClient.open(plain);
    const huge = await big.exchange(resp('SET', 'big', Buffer.alloc(2 * 1024 * 1024, 97)), () => false, 5000);
    expect(huge.toString()).toMatch(/request larger than 1048576 bytes/);
    expect(await big.waitClosed()).toBe(true);
    // an earlier pipelined request is still answered before the error
    const mixed = await RawClient.open(plain);
    const out = await mixed.exchange(
      Buffer.concat([resp('SET', 'ok', '1'), Buffer.from('*1\r\n+bad\r\n')]),
      () => false,
      2000,
    );
    expect(out.toString()).toMatch(/^\+OK\r\n-ERR Protocol error/);
    expect(await good.get('ok')).toBe('1');
  });

  it('a half-closed client still gets every reply it asked for, then the connection closes', async () => {
    const s = connect(plain, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise((r) => s.on('close', r));
    s.end(Buffer.concat([resp('SET', 'half', 'closed'), resp('GET', 'half'), resp('PING')]));
    await closed;
    expect(Buffer.concat(chunks).toString()).toBe('+OK\r\n$6\r\nclosed\r\n+PONG\r\n');
  });

  it('client_connections limits a pool: the extra client gets an error', async () => {
    const a = await RawClient.open(limited);
    const b = await RawClient.open(limited);
    expect(await a.lines(resp('PING'), 1)).toEqual(['+PONG']);
    expect(await b.lines(resp('PING'), 1)).toEqual(['+PONG']);
    const c = await RawClient.open(limited);
    const r = await c.exchange(resp('PING'), () => false, 2000);
    expect(r.toString()).toBe('-ERR max number of clients reached\r\n');
    a.close();
    b.close();
  });

  it('redis-benchmark runs through it without errors', async () => {
    const r = await run('redis-benchmark', [
      '-p',
      String(plain),
      '-n',
      '5000',
      '-c',
      '10',
      '-P',
      '8',
      '-r',
      '1000',
      '-t',
      'set,get,mset',
      '-q',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toMatch(/GET: [\d.]+ requests per second/);
  });
});
