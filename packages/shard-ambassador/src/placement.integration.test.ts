import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePorts,
  type Proc,
  type Service,
  startComponent,
  startMemcached,
  startNutcracker,
  startRedis,
  tempDir,
  waitForPort,
} from '@dds/test-support';
import { RawClient, resp } from '@dds/test-support/shard-ambassador/raw-client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type PoolConfig, poolSchema } from './config/pool-schema.js';
import { parseServer, type ServerSpec } from './config/server-spec.js';
import { Placement } from './pool/placement.js';

// The real nutcracker 0.5 and our placement code must put every key on the same shard.
// Keys are written through nutcracker, then each shard is asked which keys it holds.

const KEYS_PER_POOL = 10_000;

/** Deterministic keys of varied length and bytes: ASCII, bytes >= 0x80 (sign-extension quirks), hash tags. */
function makeKeys(n: number, seed: number): Buffer[] {
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  const keys: Buffer[] = [];
  const seen = new Set<string>();
  while (keys.length < n) {
    const i = keys.length;
    let k: Buffer;
    const r = rnd();
    if (r < 0.4) k = Buffer.from(`key:${seed}:${i}:${Math.floor(rnd() * 1e9)}`);
    else if (r < 0.55) k = Buffer.from(`user:{${Math.floor(rnd() * 200)}}:profile:${seed}:${i}`);
    else if (r < 0.65) k = Buffer.from(`ключ-${seed}-${i}-é`);
    else {
      const len = 1 + Math.floor(rnd() * 40);
      k = Buffer.alloc(len);
      // memcache keys may not hold spaces or control bytes; keep to 0x21..0x7e and 0x80..0xff
      for (let j = 0; j < len; j++) {
        const b = Math.floor(rnd() * 221) + 0x21;
        k[j] = b <= 0x7e ? b : b + 1;
      }
    }
    const id = k.toString('latin1');
    if (seen.has(id)) continue;
    seen.add(id);
    keys.push(k);
  }
  return keys;
}

const expectedValue = (k: Buffer) => `v-${k.toString('hex').slice(0, 24)}`;

async function pipelineRedis(port: number, cmds: Buffer[]): Promise<string> {
  const c = await RawClient.open(port);
  let out = '';
  try {
    for (let i = 0; i < cmds.length; i += 2000) {
      const batch = cmds.slice(i, i + 2000);
      const lines = await c.lines(Buffer.concat(batch), batch.length, 30_000);
      out += lines.join('\n');
      expect(
        lines.every((l) => l === '+OK'),
        `writes through port ${port}: ${lines.find((l) => l !== '+OK')}`,
      ).toBe(true);
    }
  } finally {
    c.close();
  }
  return out;
}

interface Case {
  name: string;
  pool: Omit<Partial<PoolConfig>, 'servers'> & { servers: string[] };
}

describe('placement is identical to nutcracker 0.5', () => {
  const redis: Service[] = [];
  const memcached: Service[] = [];
  let nutcracker: Service | undefined;
  let ours: Proc | undefined;

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) redis.push(await startRedis());
    for (let i = 0; i < 3; i++) memcached.push(await startMemcached());
  });
  afterAll(async () => {
    await ours?.kill();
    await nutcracker?.stop();
    await Promise.all([...redis, ...memcached].map((s) => s.stop()));
  });

  it('every hash and distribution, weights, names, hash tags, many servers: redis and memcache pools', async () => {
    const r = (i: number, w = 1, name = '') => `127.0.0.1:${redis[i]!.port}:${w}${name ? ` ${name}` : ''}`;
    const m = (i: number, w = 1, name = '') =>
      `127.0.0.1:${memcached[i]!.port}:${w}${name ? ` ${name}` : ''}`;
    const hashes = [
      'one_at_a_time',
      'md5',
      'crc16',
      'crc32',
      'crc32a',
      'fnv1_64',
      'fnv1a_64',
      'fnv1_32',
      'fnv1a_32',
      'hsieh',
      'murmur',
      'jenkins',
    ] as const;
    // crc32 is libmemcached's 15-bit variant: on a ketama ring every key lands on one server,
    // so it is compared under modula, where its placement is not trivial
    const cases: Case[] = hashes.map((hash, i) => ({
      name: `${hash === 'crc32' ? 'modula' : 'ketama'}-${hash}`,
      pool: {
        hash,
        distribution: hash === 'crc32' ? 'modula' : 'ketama',
        // alternate named and unnamed servers and a few weights
        servers:
          i % 2 === 0
            ? [r(0), r(1, 2), r(2)]
            : [r(0, 1, 'alpha'), r(1, 1, 'beta'), r(2, 3, 'gamma'), r(3, 1, 'delta')],
      },
    }));
    cases.push(
      {
        name: 'modula-weights',
        pool: { hash: 'fnv1a_64', distribution: 'modula', servers: [r(0, 2), r(1, 1), r(2, 3)] },
      },
      {
        name: 'modula-murmur',
        pool: { hash: 'murmur', distribution: 'modula', servers: [r(0), r(1), r(2), r(3), r(4)] },
      },
      {
        name: 'ketama-hash-tag',
        pool: {
          hash: 'fnv1a_64',
          hash_tag: '{}',
          distribution: 'ketama',
          servers: [r(0, 1), r(1, 2), r(2, 3), r(3, 1), r(4, 5)],
        },
      },
      {
        name: 'ketama-many-weights-names',
        pool: {
          hash: 'md5',
          distribution: 'ketama',
          servers: [
            r(0, 10, 'shard-a'),
            r(1, 20, 'shard-b'),
            r(2, 30, 'shard-c'),
            r(3, 40, 'shard-d'),
            r(4, 55, 'shard-e'),
          ],
        },
      },
    );
    const memCases: Case[] = [
      { name: 'mc-ketama-md5', pool: { hash: 'md5', distribution: 'ketama', servers: [m(0), m(1), m(2)] } },
      {
        name: 'mc-modula-hsieh-tag',
        pool: {
          hash: 'hsieh',
          hash_tag: '{}',
          distribution: 'modula',
          servers: [m(0, 1, 'x'), m(1, 2, 'y'), m(2, 1, 'z')],
        },
      },
    ];
    expect(cases.length).toBe(16);

    const ports = await freePorts(2 * (cases.length + memCases.length));
    const ncYaml: Record<string, unknown> = {};
    const ourYaml: Record<string, unknown> = {};
    const all = [
      ...cases.map((c, db) => ({ ...c, redis: true, db })),
      ...memCases.map((c) => ({ ...c, redis: false, db: 0 })),
    ];
    all.forEach((c, i) => {
      const pool = { ...c.pool, ...(c.redis ? { redis: true, redis_db: c.db } : {}) };
      ncYaml[c.name] = { listen: `127.0.0.1:${ports[2 * i]}`, ...pool };
      ourYaml[c.name] = { listen: `127.0.0.1:${ports[2 * i + 1]}`, ...pool };
    });
    nutcracker = await startNutcracker(stringify(ncYaml), ports[0]!);
    const dir = tempDir('placement');
    writeFileSync(join(dir, 'ours.yaml'), stringify(ourYaml));
    ours = startComponent('shard-ambassador', ['-c', join(dir, 'ours.yaml'), '-s', '0', '--admin', 'off']);
    await waitForPort(ports[1]!);

    let checked = 0;
    for (const [i, c] of all.entries()) {
      const keys = makeKeys(KEYS_PER_POOL, i + 1);
      const specs = c.pool.servers.map((s) => parseServer(s) as ServerSpec);
      const placement = new Placement(poolSchema.parse({ listen: '127.0.0.1:1', ...c.pool }), specs);
      // where nutcracker puts each key
      const where = new Map<string, number>();
      if (c.redis) {
        await pipelineRedis(
          ports[2 * i]!,
          keys.map((k) => resp('SET', k, expectedValue(k))),
        );
        for (const [si, spec] of specs.entries()) {
          const direct = new Redis({ port: spec.port, host: spec.host, db: c.db, lazyConnect: true });
          await direct.connect();
          for (const k of await direct.keysBuffer('*')) where.set(k.toString('latin1'), si);
          await direct.quit();
        }
      } else {
        // memcache pools share the memcached servers: start each case empty
        for (const mc of memcached) {
          const c = await RawClient.open(mc.port);
          expect(await c.lines('flush_all\r\n', 1)).toEqual(['OK']);
          c.close();
        }
        const nc = await RawClient.open(ports[2 * i]!);
        for (let b = 0; b < keys.length; b += 2000) {
          const batch = keys.slice(b, b + 2000);
          const cmds = batch.map((k) =>
            Buffer.concat([
              Buffer.from('set '),
              k,
              Buffer.from(` 0 0 ${expectedValue(k).length}\r\n${expectedValue(k)}\r\n`),
            ]),
          );
          const lines = await nc.lines(Buffer.concat(cmds), batch.length, 30_000);
          expect(lines.filter((l) => l !== 'STORED')).toEqual([]);
        }
        nc.close();
        for (const [si, spec] of specs.entries()) {
          const direct = await RawClient.open(spec.port);
          for (let b = 0; b < keys.length; b += 500) {
            const batch = keys.slice(b, b + 500);
            const got = await direct.exchange(
              Buffer.concat([
                Buffer.from('get'),
                ...batch.flatMap((k) => [Buffer.from(' '), k]),
                Buffer.from('\r\n'),
              ]),
              (x) => x.subarray(-5).toString() === 'END\r\n',
            );
            for (const line of got.toString('latin1').split('\r\n')) {
              if (line.startsWith('VALUE ')) where.set(line.split(' ')[1]!, si);
            }
          }
          direct.close();
        }
      }
      expect(where.size, `${c.name}: keys found on the shards`).toBe(keys.length);
      const wrong = keys.filter((k) => where.get(k.toString('latin1')) !== placement.index(k, 0, k.length));
      expect(
        wrong.map((k) => k.toString('latin1')).slice(0, 5),
        `${c.name}: keys placed differently`,
      ).toEqual([]);
      // every shard holds some keys: the comparison is not trivially true
      expect(new Set(where.values()).size, `${c.name}: shards used`).toBe(specs.length);
      checked += keys.length;

      // and our proxy finds every key nutcracker wrote (multi-key reads split and merged)
      const port = ports[2 * i + 1]!;
      if (c.redis) {
        const client = new Redis({ port, lazyConnect: true });
        await client.connect();
        for (let b = 0; b < keys.length; b += 500) {
          const batch = keys.slice(b, b + 500);
          const got = await client.mgetBuffer(...batch);
          const bad = batch.filter((k, j) => got[j]?.toString() !== expectedValue(k));
          expect(bad.length, `${c.name}: keys read back through the ambassador`).toBe(0);
        }
        await client.quit();
      } else {
        const client = await RawClient.open(port);
        for (let b = 0; b < keys.length; b += 500) {
          const batch = keys.slice(b, b + 500);
          const got = await client.exchange(
            Buffer.concat([
              Buffer.from('get'),
              ...batch.flatMap((k) => [Buffer.from(' '), k]),
              Buffer.from('\r\n'),
            ]),
            (x) => x.subarray(-5).toString() === 'END\r\n',
          );
          const n = got
            .toString('latin1')
            .split('\r\n')
            .filter((l) => l.startsWith('VALUE ')).length;
          expect(n, `${c.name}: keys found through the ambassador`).toBe(batch.length);
        }
        client.close();
      }
    }
    expect(checked).toBe(KEYS_PER_POOL * all.length);
  }, 300_000);
});
