// metrics-adapter: scrape latency of the Redis source for a Redis with 16 keyspaces and ~40
// command types (INFO ALL of ~20 KB, ~450 series). N sequential scrapes (Prometheus scrapes a
// target one at a time), p50/p99 per round; rps = scrapes per second. The issue's target is
// p99 < 20 ms on loopback. Compared in the same run with the real redis_exporter (Debian
// prometheus-redis-exporter, Go) on the same Redis, and with the raw floor: a fresh connection
// plus the same pipelined INFO ALL / CONFIG GET / SLOWLOG round trip, no HTTP, no conversion.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { entry, runBenchmark } from './lib/runner.mjs';
import { exec } from './lib/tools.mjs';

const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 400);

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function startProcess(cmd, args) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitHttp(url, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** runs fn N times one after another; latency percentiles in ms and scrapes per second */
async function sequential(fn) {
  const lat = [];
  const t0 = performance.now();
  for (let i = 0; i < SCRAPES; i++) {
    const s = performance.now();
    await fn();
    lat.push(performance.now() - s);
  }
  const total = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { rps: SCRAPES / total, p50ms: pct(lat, 50), p99ms: pct(lat, 99) };
}

let redisPort;
let redisProc;
async function sharedRedis() {
  if (redisProc) return redisPort;
  redisPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dds-bench-redis-'));
  redisProc = startProcess('redis-server', [
    '--port',
    String(redisPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
  ]);
  for (let i = 0; i < 100; i++) {
    try {
      await exec('redis-cli', ['-p', String(redisPort), 'PING']);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // 16 keyspaces with keys (some expiring) and a mix of ~40 command types
  const script = [];
  for (let db = 0; db < 16; db++) {
    script.push(`SELECT ${db}`);
    for (let k = 0; k < 50; k++) script.push(`SET key:${k} v${k}`, `EXPIRE key:${k % 10} 100000`);
  }
  const mix = [
    'GET key:1',
    'MGET key:1 key:2',
    'INCR c',
    'INCRBY c 2',
    'DECR c',
    'APPEND s x',
    'STRLEN s',
    'GETRANGE s 0 1',
    'LPUSH l a',
    'RPUSH l b',
    'LPOP l',
    'RPOP l',
    'LRANGE l 0 -1',
    'LLEN l',
    'SADD st a',
    'SMEMBERS st',
    'SISMEMBER st a',
    'SCARD st',
    'HSET h f v',
    'HGET h f',
    'HGETALL h',
    'HDEL h f',
    'HINCRBY h n 1',
    'ZADD z 1 a',
    'ZRANGE z 0 -1',
    'ZSCORE z a',
    'ZCARD z',
    'ZREM z a',
    'EXISTS key:1',
    'TTL key:1',
    'PTTL key:1',
    'TYPE key:1',
    'DEL nokey',
    'SETEX tmp 100 v',
    'SETNX once v',
    'PING',
    'ECHO hi',
    'DBSIZE',
    'PFADD hll a',
    'PFCOUNT hll',
    'XADD xs * a 1',
  ];
  for (let i = 0; i < 5; i++) script.push('SELECT 0', ...mix);
  await new Promise((resolve, reject) => {
    const s = connect(redisPort, '127.0.0.1', () => s.end(`${script.join('\r\n')}\r\nQUIT\r\n`));
    s.on('data', () => {});
    s.on('close', resolve);
    s.on('error', reject);
  });
  return redisPort;
}

const RESP = (...args) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const ROUND_TRIP = [
  RESP('INFO', 'ALL'),
  RESP('CONFIG', 'GET', 'maxmemory'),
  RESP('CONFIG', 'GET', 'maxclients'),
  RESP('CONFIG', 'GET', 'io-threads'),
  RESP('SLOWLOG', 'LEN'),
  RESP('SLOWLOG', 'GET', '1'),
].join('');

/** the floor: new connection, the same pipeline, read until the final reply (the SLOWLOG GET array) */
function rawRoundTrip(port) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(ROUND_TRIP));
    const chunks = [];
    s.on('data', (d) => {
      chunks.push(d);
      const tail = Buffer.concat(chunks.slice(-2)).toString('latin1');
      if (/\r\n\*(0|1)\r\n(?:[\s\S]*\r\n)?$/.test(tail) && /:\d+\r\n\*/.test(tail)) {
        s.destroy();
        resolve();
      }
    });
    s.on('error', reject);
  });
}

const dispatcher = new Agent({ connections: 1, pipelining: 1 });
async function scrapeOnce(url) {
  const r = await request(url, { dispatcher });
  const body = await r.body.text();
  if (r.statusCode !== 200 || !/^redis_up 1$/m.test(body))
    throw new Error(`bad scrape from ${url}: ${r.statusCode}`);
}

await runBenchmark({
  component: 'metrics-adapter',
  before: true,
  title: 'metrics-adapter: Redis scrape latency (16 keyspaces, ~40 command types)',
  notes: [
    `${SCRAPES} sequential scrapes per round over one keep-alive connection, as Prometheus scrapes; rps = scrapes/s.`,
    'Peer: redis_exporter 1.45 (Debian prometheus-redis-exporter, Go) on the same Redis.',
    'Reference: the raw floor, a fresh TCP connection plus the same pipelined INFO ALL / CONFIG GET / SLOWLOG round trip without HTTP or conversion.',
    'Target of the issue: p99 < 20 ms on loopback.',
  ].join(' '),
  targets: [
    {
      name: 'redis_exporter 1.45 (Go)',
      role: 'peer',
      async start() {
        const redis = await sharedRedis();
        const port = await freePort();
        const p = startProcess('prometheus-redis-exporter', [
          '-redis.addr',
          `redis://127.0.0.1:${redis}`,
          '-web.listen-address',
          `127.0.0.1:${port}`,
        ]);
        await waitHttp(`http://127.0.0.1:${port}/metrics`);
        return { url: `http://127.0.0.1:${port}/metrics`, stop: () => p.stop() };
      },
    },
    {
      name: 'dds-metrics-adapter',
      role: 'ours',
      async start() {
        const redis = await sharedRedis();
        const port = await freePort();
        const p = startProcess(process.execPath, [
          entry('metrics-adapter'),
          '--redis',
          `redis://127.0.0.1:${redis}`,
          '--redis-listen',
          `127.0.0.1:${port}`,
          '--admin',
          'off',
          '--log-level',
          'warn',
        ]);
        await waitHttp(`http://127.0.0.1:${port}/metrics`);
        return { url: `http://127.0.0.1:${port}/metrics`, stop: () => p.stop() };
      },
    },
    {
      name: 'raw INFO round trip (floor)',
      role: 'reference',
      async start() {
        const redis = await sharedRedis();
        return { raw: redis, stop: async () => {} };
      },
    },
  ],
  scenarios: [
    {
      name: `Redis scrape, ${SCRAPES} sequential scrapes`,
      run: (h) => sequential(h.raw ? () => rawRoundTrip(h.raw) : () => scrapeOnce(h.url)),
    },
  ],
});
await redisProc?.stop();
await dispatcher.close();
