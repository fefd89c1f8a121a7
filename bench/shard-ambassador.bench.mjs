// shard-ambassador: Redis and memcached sharding over the same 3 shards, in one run:
// (a) one Redis / memcached directly (baseline), (b) nutcracker 0.5 (twemproxy, the peer),
// (c) dds-shard-ambassador (one process). Load: redis-benchmark -c 50 with -P 16 and -P 1
// (GET, SET, MGET of 10 keys, -r so keys spread over shards) and memaslap (libmemcached-tools,
// 90% get / 10% set) for memcache.
//
// A/B runs of a change (hot-path changes are A/B'd against main before they land):
//   SHARD_BASELINE=path/to/main.mjs  adds "dds baseline build" (e.g. an esbuild bundle of main's
//                                    dist/main.js) beside ours, same shards, same rounds
//   SHARD_OURS=path/to/main.mjs      runs this entry as ours instead of packages/.../dist/main.js
//   BENCH_SCALE=0.25                 scales every scenario's request count (short runs)
//   BENCH_ONLY=regexp                runs the scenarios whose name matches
//   BENCH_TARGETS=regexp             runs the targets whose name matches
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runBenchmark } from './lib/runner.mjs';
import { exec, redisBenchmark } from './lib/tools.mjs';
import { OURS_ENTRY, proxyCommand } from './shard-ambassador-targets.mjs';

const dir = mkdtempSync(join(tmpdir(), 'dds-bench-shard-'));
const procs = [];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitPort(port, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startProc(cmd, args, port) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  procs.push(child);
  await waitPort(port);
  return { pid: child.pid, stop: async () => child.kill('SIGTERM') };
}

/** CPU time (user + system, ms) a process has used: throughput on a shared machine is noisy, CPU per request is not. */
function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** User-space CPU (ms) alone: the part a change to our code moves (system time is the kernel's). */
function userMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) * 10;
}

/** scenario -> target -> { ms, requests } of proxy CPU, for the notes */
const cpu = new Map();
async function measured(scenario, handle, target, requests, fn) {
  if (!handle.pid) return fn();
  const before = cpuMs(handle.pid);
  const userBefore = userMs(handle.pid);
  const r = await fn();
  const per = cpu.get(scenario) ?? new Map();
  cpu.set(scenario, per);
  const acc = per.get(target.name) ?? { ms: 0, user: 0, requests: 0 };
  acc.ms += cpuMs(handle.pid) - before;
  acc.user += userMs(handle.pid) - userBefore;
  acc.requests += typeof requests === 'function' ? requests(r) : requests;
  per.set(target.name, acc);
  return r;
}

function cpuTable() {
  const rows = [
    '',
    '',
    'Proxy CPU time per request (user + system, all rounds), the measure the machine load does not distort:',
    '',
    '| scenario | nutcracker µs/req | ours µs/req | ours / nutcracker |',
    '|---|---:|---:|---:|',
  ];
  for (const [scenario, per] of cpu) {
    const us = (n) => (per.get(n) ? (per.get(n).ms * 1000) / per.get(n).requests : Number.NaN);
    const nc = us(NUTCRACKER);
    const ours = us(OURS);
    rows.push(`| ${scenario} | ${nc.toFixed(1)} | ${ours.toFixed(1)} | ${(ours / nc).toFixed(2)}x |`);
    if (per.has(BASELINE)) {
      const base = us(BASELINE);
      const user = (n) => (per.get(n).user * 1000) / per.get(n).requests;
      console.log(
        `  CPU ${scenario}: ours ${ours.toFixed(2)} µs/req (user ${user(OURS).toFixed(2)}), baseline ${base.toFixed(2)} (user ${user(BASELINE).toFixed(2)}): ${(ours / base).toFixed(3)}x total, ${(user(OURS) / user(BASELINE)).toFixed(3)}x user; nutcracker ${nc.toFixed(2)}`,
      );
    }
  }
  return rows.join('\n');
}

const redisPorts = [await freePort(), await freePort(), await freePort()];
const mcPorts = [await freePort(), await freePort(), await freePort()];
for (const p of redisPorts) {
  await startProc(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    p,
  );
}
for (const p of mcPorts)
  await startProc(
    'memcached',
    ['-l', '127.0.0.1', '-p', String(p), '-U', '0', '-u', 'root', '-m', '128', '-t', '1'],
    p,
  );

function yaml(redisPort, mcPort) {
  return [
    'redis:',
    `  listen: 127.0.0.1:${redisPort}`,
    '  hash: fnv1a_64',
    '  distribution: ketama',
    '  redis: true',
    '  servers:',
    ...redisPorts.map((p, i) => `   - 127.0.0.1:${p}:1 r${i}`),
    'memcache:',
    `  listen: 127.0.0.1:${mcPort}`,
    '  hash: fnv1a_64',
    '  distribution: ketama',
    '  servers:',
    ...mcPorts.map((p, i) => `   - 127.0.0.1:${p}:1 m${i}`),
    '',
  ].join('\n');
}

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const scaled = (n) => Math.max(1000, Math.round(n * SCALE));
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : null;
const TARGETS = process.env.BENCH_TARGETS ? new RegExp(process.env.BENCH_TARGETS) : null;
const BASELINE = 'dds baseline build (3 shards)';
const OURS = 'dds-shard-ambassador (3 shards)';
const NUTCRACKER = 'nutcracker 0.5 (3 shards)';

async function proxy(kind, entry = OURS_ENTRY) {
  const [redisPort, mcPort, statsPort] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, `${kind}.yml`);
  writeFileSync(file, yaml(redisPort, mcPort));
  const h = await startProc(
    ...proxyCommand(kind === 'nutcracker' ? 'nutcracker' : 'ours', { file, statsPort, dir, entry }),
    redisPort,
  );
  await waitPort(mcPort);
  return { ...h, redisPort, mcPort };
}

const NOTES = [
  'Shards: 3 redis-server and 3 memcached (`-t 1`) on loopback. Peer: nutcracker 0.5.0 (Debian), same nutcracker.yaml',
  '(fnv1a_64, ketama, named servers). Ours: `dds-shard-ambassador -c` that file, one process, `--log-level warn`.',
  'Baseline: one shard directly. Redis load: `redis-benchmark -c 50 -r 100000` with `-P 16` and `-P 1`; MGET asks',
  'for 10 random keys, so it is split over the shards and merged. memcache load: `memaslap -T 1 -c 50 -X 64`',
  '(90% get / 10% set); its p50/p99 are the upper bounds of its log2 latency buckets (coarse).',
  'Scenarios run in this order on the same processes. Order matters for the peer: after MGET -P 16 traffic',
  'nutcracker stays slower at -P 16 (measured: GET -P 16 ~640k -> ~455k req/s, CPU per request +40%), so the',
  'plain -P 16 scenarios come first and no extra warm-up traffic is sent to any target.',
  'Load tool, proxy and shards share the 2 cores; other engineers ran builds and tests on the machine at the same time.',
].join('\n');

const MGET = ['MGET', ...Array.from({ length: 10 }, (_, i) => `key:${i}:__rand_int__`)];

const redisScenario = (name, test, pipeline, full, extra = []) => {
  const requests = scaled(full);
  return {
    name,
    targets: ['redis direct (1 shard)', NUTCRACKER, OURS, BASELINE],
    run: (h, t) =>
      measured(name, h, t, requests, () =>
        redisBenchmark({
          port: h.redisPort,
          test,
          pipeline,
          clients: 50,
          requests,
          keyspace: 100_000,
          extra,
        }),
      ),
  };
};

/** memaslap: 90/10 get/set, 50 concurrent connections on one thread, latency from its log2 histogram. */
async function memaslap(port, seconds = Math.max(1, Math.round(4 * SCALE))) {
  const out = await exec(
    'memcaslap',
    ['-s', `127.0.0.1:${port}`, '-T', '1', '-c', '50', '-t', `${seconds}s`, '-S', `${seconds}s`, '-X', '64'],
    {
      timeoutMs: (seconds + 30) * 1000,
    },
  );
  const rps = Number(/TPS: (\d+)/.exec(out)?.[1]);
  const total = out.lastIndexOf('Total Statistics');
  const dist = out.slice(out.indexOf('Log2 Dist:', total), out.indexOf('\n\n', total));
  const buckets = [];
  // [ \t], not \s: a row must not run on into the next line's bucket number
  for (const m of dist.matchAll(/^[ \t]+(\d+):((?:[ \t]+\d+)+)/gm)) {
    m[2]
      .trim()
      .split(/\s+/)
      .forEach((n, i) => {
        buckets.push([Number(m[1]) + i, Number(n)]);
      });
  }
  const count = buckets.reduce((s, [, n]) => s + n, 0);
  const pct = (q) => {
    let acc = 0;
    for (const [e, n] of buckets) {
      acc += n;
      // memaslap counts a latency of b significant bits in bucket b: [2^(b-1), 2^b) µs
      if (acc >= q * count) return 2 ** e / 1000; // bucket upper bound, µs -> ms
    }
    return Number.NaN;
  };
  return { rps, p50ms: pct(0.5), p99ms: pct(0.99), ops: Number(/Ops: (\d+)/.exec(out)?.[1]) };
}

try {
  await runBenchmark({
    component: 'shard-ambassador',
    title: 'shard-ambassador: Redis and memcached sharding over 3 shards (vs nutcracker 0.5)',
    // a getter: the runner reads the notes after the runs, when the CPU figures are known
    get notes() {
      return NOTES + cpuTable();
    },
    targets: [
      {
        name: 'redis direct (1 shard)',
        role: 'baseline',
        start: async () => ({ redisPort: redisPorts[0], mcPort: mcPorts[0] }),
      },
      { name: NUTCRACKER, role: 'peer', start: () => proxy('nutcracker') },
      { name: OURS, role: 'ours', start: () => proxy('ours') },
      ...(process.env.SHARD_BASELINE
        ? [{ name: BASELINE, role: 'reference', start: () => proxy('baseline', process.env.SHARD_BASELINE) }]
        : []),
    ].filter((t) => !TARGETS || TARGETS.test(t.name)),
    scenarios: [
      redisScenario('redis GET -P 16', 'get', 16, 400_000),
      redisScenario('redis SET -P 16', 'set', 16, 400_000),
      redisScenario('redis MGET(10) -P 16', 'mget', 16, 100_000, MGET),
      redisScenario('redis GET -P 1', 'get', 1, 100_000),
      redisScenario('redis SET -P 1', 'set', 1, 100_000),
      redisScenario('redis MGET(10) -P 1', 'mget', 1, 50_000, MGET),
      {
        name: 'memcache get/set 90/10 (memaslap -c 50)',
        run: (h, t) =>
          measured(
            'memcache get/set 90/10 (memaslap -c 50)',
            h,
            t,
            (r) => r.ops,
            () => memaslap(h.mcPort),
          ),
      },
    ].filter((s) => !ONLY || ONLY.test(s.name)),
  });
} finally {
  for (const p of procs) p.kill('SIGTERM');
}
