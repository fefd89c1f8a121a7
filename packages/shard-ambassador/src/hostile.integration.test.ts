import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { freePorts, run, type Service, startMemcached, startRedis } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { RawClient, resp } from '@dds/test-support/shard-ambassador/raw-client';
import { cpuSeconds, metric, rss, until } from '@dds/test-support/shard-ambassador/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Hostile clients against real redis-server and memcached shards (issue 13). Bounds here are
// behaviour, not speed: the attacker is cut off at the limit, every request of the other clients
// completes, CPU and memory stay far below what the quadratic parser or unbounded buffering cost.
// The timings (other clients' p99, CPU, RSS beside nutcracker) are in
// bench/shard-ambassador-hostile.bench.mjs.

const MiB = 1024 * 1024;

interface Streamed {
  written: number;
  reply: string;
  closed: boolean;
}

/**
 * Streams `total` bytes (prefix, then `filler` repeated) without a terminator, as fast as the
 * proxy takes them. `done` resolves once all are sent or the proxy closed the connection,
 * `closed` once it is closed, each with what was written and what the proxy answered.
 */
function stream(
  port: number,
  prefix: string,
  filler: string,
  total: number,
): { done: Promise<Streamed>; closed: Promise<Streamed>; socket: Socket } {
  const s = connect(port, '127.0.0.1');
  // whole fillers per chunk, so a repeated element is never cut
  const chunk = Buffer.alloc(Math.floor((64 * 1024) / filler.length) * filler.length, filler);
  let written = 0;
  let reply = '';
  let closed = false;
  s.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  const closedP = new Promise<Streamed>((resolve) => {
    s.on('close', () => {
      closed = true;
      resolve({ written, reply, closed });
    });
  });
  const done = new Promise<Streamed>((resolve) => {
    const finish = () => resolve({ written, reply, closed });
    s.on('error', () => {});
    s.on('close', finish);
    s.once('connect', () => {
      s.write(prefix);
      written += prefix.length;
      const pump = () => {
        while (written < total && !s.destroyed) {
          written += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
        if (written >= total) finish();
      };
      pump();
    });
  });
  return { done, closed: closedP, socket: s };
}

/** n sequential GETs (each waits for its reply) through a RESP or memcache connection; returns the replies. */
async function sequentialGets(
  port: number,
  kind: 'redis' | 'memcache',
  key: string,
  n: number,
): Promise<string[]> {
  const c = await RawClient.open(port);
  const out: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      if (kind === 'redis') out.push((await c.lines(resp('GET', key), 2))[1]!);
      else out.push((await c.lines(`get ${key}\r\n`, 3))[1]!);
    }
  } finally {
    c.close();
  }
  return out;
}

describe('hostile clients: oversized frames that never end (real shards)', () => {
  const redis: Service[] = [];
  const memcached: Service[] = [];
  let amb: Ambassador;
  let redisPort: number;
  let mcPort: number;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) redis.push(await startRedis());
    for (let i = 0; i < 2; i++) memcached.push(await startMemcached());
    [redisPort, mcPort] = (await freePorts(2)) as [number, number];
    // the defaults: every limit as the README names it
    amb = await startAmbassador({
      r: {
        listen: `127.0.0.1:${redisPort}`,
        redis: true,
        servers: redis.map((s, i) => `127.0.0.1:${s.port}:1 r${i}`),
      },
      m: { listen: `127.0.0.1:${mcPort}`, servers: memcached.map((s, i) => `127.0.0.1:${s.port}:1 m${i}`) },
    });
    const c = await RawClient.open(redisPort);
    expect(await c.lines(resp('SET', 'normal', 'value'), 1)).toEqual(['+OK']);
    c.close();
    const m = await RawClient.open(mcPort);
    expect(await m.lines('set normal 0 0 5\r\nvalue\r\n', 1)).toEqual(['STORED']);
    m.close();
  });
  afterAll(async () => {
    await amb?.stop();
    await Promise.all([...redis, ...memcached].map((s) => s.stop()));
  });

  it('a 48 MiB memcache line of 250-byte keys, never ended: held at O(bytes) CPU; others get all 2,000 replies', async () => {
    const pid = amb.proc.child.pid!;
    const cpu0 = cpuSeconds(pid);
    const rss0 = rss(pid);
    // a get line may be long (memcached allows it); 250-byte keys are the longest it accepts
    const key = `${'k'.repeat(249)} `;
    const attack = stream(mcPort, 'get ', key, 48 * MiB);
    const normal = sequentialGets(mcPort, 'memcache', 'normal', 2000);
    const sent = await attack.done;
    expect(sent.written).toBeGreaterThanOrEqual(48 * MiB);
    expect(sent.closed).toBe(false);
    expect(await normal).toEqual(Array.from({ length: 2000 }, () => 'value'));
    // the proxy holds the line (reported), costing its bytes once, not its bytes squared
    await until(
      'the 48 MiB line to be held',
      async () => (await metric(amb, 'dds_shard_input_buffer_bytes')) >= 48 * MiB,
    );
    // re-scanning the line from its start on every read burned 70-90 CPU seconds here
    expect(cpuSeconds(pid) - cpu0).toBeLessThan(15);
    expect(rss(pid) - rss0).toBeLessThan(400 * MiB);
    attack.socket.destroy();
    await until(
      'the held line to be released',
      async () => (await metric(amb, 'dds_shard_input_buffer_bytes')) === 0,
    );
  });

  it('a 48 MiB memcache line that is not a get: refused past 2048 bytes, as memcached does; others unaffected', async () => {
    const attack = stream(mcPort, 'set ', 'x', 48 * MiB);
    const normal = sequentialGets(mcPort, 'memcache', 'normal', 2000);
    const got = await attack.closed;
    expect(got.reply).toBe('CLIENT_ERROR line too long (over 2048 bytes)\r\n');
    expect(got.closed).toBe(true);
    // cut off at the limit: what the proxy took is the limit and the socket buffers, not 48 MiB
    expect(got.written).toBeLessThan(16 * MiB);
    expect(await normal).toEqual(Array.from({ length: 2000 }, () => 'value'));
  });

  it('a 48 MiB Redis inline command: refused past 64 KiB (Redis: too big inline request); others unaffected', async () => {
    const attack = stream(redisPort, 'GET ', 'a', 48 * MiB);
    const normal = sequentialGets(redisPort, 'redis', 'normal', 2000);
    const got = await attack.closed;
    expect(got.reply).toBe('-ERR Protocol error: too big inline request\r\n');
    expect(got.closed).toBe(true);
    expect(got.written).toBeLessThan(16 * MiB);
    expect(await normal).toEqual(Array.from({ length: 2000 }, () => 'value'));
  });

  it('a RESP request of a million tiny arguments trickled in: parsed once; a header line without CRLF is refused', async () => {
    const pid = amb.proc.child.pid!;
    const cpu0 = cpuSeconds(pid);
    const args = 1024 * 1024;
    const attack = stream(redisPort, `*${args}\r\n$4\r\nMGET\r\n`, '$1\r\nk\r\n', 7 * (args - 10));
    const normal = sequentialGets(redisPort, 'redis', 'normal', 2000);
    const sent = await attack.done;
    expect(sent.closed).toBe(false);
    expect(await normal).toEqual(Array.from({ length: 2000 }, () => 'value'));
    expect(cpuSeconds(pid) - cpu0).toBeLessThan(15);
    attack.socket.destroy();
    const header = stream(redisPort, '*', '1', MiB);
    const h = await header.closed;
    expect(h.reply).toBe('-ERR Protocol error: invalid multibulk length\r\n');
    expect(h.closed).toBe(true);
  });
});

/** The soft and hard limits on open files of this process. */
function fileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))!;
  const [soft, hard] = line
    .replace('Max open files', '')
    .trim()
    .split(/\s+/)
    .map((v) => (v === 'unlimited' ? 1 << 20 : Number(v)));
  return { soft: soft!, hard: hard! };
}

describe('hostile clients: many idle connections, a client that never reads (real shards)', () => {
  const IDLE = 10_000;
  const redis: Service[] = [];
  let amb: Ambassador;
  let port: number;
  let idle = IDLE;
  const pools = () => ({
    r: {
      listen: `127.0.0.1:${port}`,
      redis: true,
      servers: redis.map((s, i) => `127.0.0.1:${s.port}:1 r${i}`),
    },
  });

  beforeAll(async () => {
    // each idle connection is a file here and one in the proxy (which inherits this limit)
    let { soft, hard } = fileLimits();
    const want = IDLE + 1000;
    if (soft < want && hard > soft) {
      await run('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`]);
      ({ soft, hard } = fileLimits());
    }
    idle = Math.min(IDLE, soft - 1000);
    if (idle < IDLE)
      console.warn(
        `open files limited to ${soft} (hard ${hard}): ${idle} idle connections instead of ${IDLE}`,
      );
    for (let i = 0; i < 2; i++) redis.push(await startRedis());
    [port] = (await freePorts(1)) as [number];
    amb = await startAmbassador(pools(), ['--max-clients', String(idle + 10)]);
    const c = await RawClient.open(port);
    expect(await c.lines(resp('SET', 'normal', 'value'), 1)).toEqual(['+OK']);
    c.close();
  });
  afterAll(async () => {
    await amb?.stop();
    await Promise.all(redis.map((s) => s.stop()));
  });

  it('10,000 idle connections: others served; clients over --max-clients closed at once; the idle timeout closes the rest', async () => {
    const pid = amb.proc.child.pid!;
    const rss0 = rss(pid);
    const sockets: Socket[] = [];
    const closed = new Set<Socket>();
    for (let i = 0; i < idle; i += 250) {
      const batch = Array.from({ length: Math.min(250, idle - i) }, () => {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => closed.add(s));
        sockets.push(s);
        return new Promise((r) => s.once('connect', r));
      });
      await Promise.all(batch);
    }
    await until(
      `${idle} clients`,
      async () => (await metric(amb, 'dds_shard_client_connections{pool="r"}')) === idle,
    );
    expect(closed.size).toBe(0);
    const grown = rss(pid) - rss0;
    expect(grown).toBeLessThan(idle * 30 * 1024); // README: about 5-10 KiB each; 30 KiB is the bound
    expect(await sequentialGets(port, 'redis', 'normal', 2000)).toEqual(
      Array.from({ length: 2000 }, () => 'value'),
    );

    // over the limit: one error line, then the proxy closes (the client sends nothing, reads, waits)
    const extra = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const c = connect(port, '127.0.0.1');
        c.on('error', () => {});
        let got = '';
        c.on('data', (d: Buffer) => {
          got += d.toString();
        });
        const wasClosed = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 5000);
          c.once('close', () => {
            clearTimeout(t);
            resolve(true);
          });
        });
        c.destroy();
        return { got, closed: wasClosed };
      }),
    );
    const refused = extra.filter((e) => e.got === '-ERR max number of clients reached\r\n');
    // 10 slots were free: the other 30 (or more, while the GET client's slot was still held)
    expect(refused.length).toBeGreaterThanOrEqual(29);
    for (const e of refused) expect(e.closed).toBe(true);
    for (const e of extra.filter((x) => !refused.includes(x))) expect(e).toEqual({ got: '', closed: false });
    expect(await metric(amb, 'dds_shard_clients_rejected_total{pool="r"}')).toBe(refused.length);

    // the idle timeout, switched on by a reload (it applies to connected clients too)
    await amb.rewrite({ ...pools(), dds: { clientIdleTimeout: '1s' } });
    await until('every idle client closed', () => closed.size === idle, 60_000);
    expect(await metric(amb, 'dds_shard_clients_idle_closed_total{pool="r"}')).toBeGreaterThanOrEqual(idle);
    await amb.rewrite(pools());
  });

  it('a client that never reads: not read from past the high-water mark; closed at the output limit; others served', async () => {
    const pid = amb.proc.child.pid!;
    const value = Buffer.alloc(4 * 1024, 0x76);
    const big = Buffer.alloc(256 * 1024, 0x76);
    const setter = await RawClient.open(port);
    expect(await setter.lines(Buffer.concat([resp('SET', 'v', value), resp('SET', 'big', big)]), 2)).toEqual([
      '+OK',
      '+OK',
    ]);
    setter.close();
    const requests = async () => {
      const text = await (await fetch(`${amb.admin}/metrics`)).text();
      return [...text.matchAll(/^dds_shard_requests_total\{pool="r",server="r\d"\} (\d+)/gm)].reduce(
        (s, m) => s + Number(m[1]),
        0,
      );
    };
    const rss0 = rss(pid);
    const before = await requests();
    // writes GETs as long as the proxy takes them, never reading a reply
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.pause();
    const get = resp('GET', 'v');
    let sent = 0;
    const LOTS = 1_000_000; // 25 MB of requests: more than the socket buffers between us hold
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (sent < LOTS) {
          sent++;
          if (!s.write(get)) {
            s.once('drain', pump);
            // the proxy stopped reading once this client's queued replies passed 4 MiB
            setTimeout(resolve, 1000).unref();
            return;
          }
        }
        resolve();
      };
      pump();
    });
    const forwarded = (await requests()) - before;
    // read: up to the high-water mark (4 MiB of replies) plus what the reads before it brought
    expect(sent).toBeLessThan(LOTS);
    expect(forwarded).toBeLessThan(sent);
    expect(forwarded * value.length).toBeLessThan(128 * MiB);
    expect(await metric(amb, 'dds_shard_clients_output_limit_closed_total{pool="r"}')).toBe(0);
    expect(rss(pid) - rss0).toBeLessThan(400 * MiB);
    expect(await sequentialGets(port, 'redis', 'normal', 2000)).toEqual(
      Array.from({ length: 2000 }, () => 'value'),
    );
    s.destroy();

    // all at once: 2,000 GETs of 256 KiB read in one go (500 MiB of replies): closed at the
    // output limit (128 MiB) instead of holding them
    const greedy = connect(port, '127.0.0.1');
    greedy.on('error', () => {});
    await new Promise((r) => greedy.once('connect', r));
    greedy.pause();
    const rss1 = rss(pid);
    greedy.write(Buffer.concat(Array.from({ length: 2000 }, () => resp('GET', 'big'))));
    await until(
      'the greedy client closed at the output limit',
      async () => (await metric(amb, 'dds_shard_clients_output_limit_closed_total{pool="r"}')) === 1,
    );
    expect(rss(pid) - rss1).toBeLessThan(600 * MiB);
    expect(await sequentialGets(port, 'redis', 'normal', 200)).toEqual(
      Array.from({ length: 200 }, () => 'value'),
    );
    greedy.destroy();
  });
});
