// shard-ambassador under hostile clients (issue 13), beside nutcracker 0.5 on the same shards:
// a normal client's 2,000 sequential GETs (latency of each: p50, p99, and GETs per second) while
// an attacker, in a process of its own, does one of:
//   - streams a 48 MiB memcache get line of 250-byte keys and never ends it,
//   - streams a 48 MiB memcache line that is not a get (memcached closes at 2048 bytes),
//   - streams a 48 MiB Redis inline command (Redis refuses past 64 KiB),
//   - holds 10,000 idle connections,
//   - pipelines GETs of a 4 KiB value and never reads a reply,
// and the same without an attacker. Beside latency: the proxy's CPU seconds during the scenario
// and its RSS growth (VmRSS after the attack minus before), in the notes.
//
//   npm run bench -- shard-ambassador-hostile      (BENCH_ROUNDS, default 3; SHARD_OURS as in
//                                                   shard-ambassador.bench.mjs)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitPort } from './lib/processes.mjs';
import { median, ROOT, runBenchmark } from './lib/runner.mjs';
import { proxyCommand } from './shard-ambassador-targets.mjs';

const dir = mkdtempSync(join(tmpdir(), 'dds-bench-hostile-'));
const procs = [];
const IDLE = 10_000;
const MiB = 1024 * 1024;

async function startProc(cmd, args, port) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  procs.push(child);
  await waitPort(port, 30_000);
  return child;
}

/** VmRSS in bytes; NaN once the process is gone (nutcracker does not survive every scenario). */
const rss = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
  } catch {
    return Number.NaN;
  }
};
const cpuSeconds = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
};

const redisPorts = [await freePort(), await freePort()];
const mcPorts = [await freePort(), await freePort()];
for (const p of redisPorts)
  await startProc(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    p,
  );
for (const p of mcPorts)
  await startProc(
    'memcached',
    ['-l', '127.0.0.1', '-p', String(p), '-U', '0', '-u', 'root', '-m', '64', '-t', '1'],
    p,
  );

function yaml(redisPort, mcPort) {
  return [
    'redis:',
    `  listen: 127.0.0.1:${redisPort}`,
    '  redis: true',
    '  servers:',
    ...redisPorts.map((p, i) => `   - 127.0.0.1:${p}:1 r${i}`),
    'memcache:',
    `  listen: 127.0.0.1:${mcPort}`,
    '  servers:',
    ...mcPorts.map((p, i) => `   - 127.0.0.1:${p}:1 m${i}`),
    '',
  ].join('\n');
}

// Address-space caps, so that a proxy that buffers without bound fails alone instead of taking the
// machine with it: nutcracker 0.5 buffers every reply for a client that never reads (it grew past
// 23 GB in seconds here and the kernel's OOM killer stopped it). Node reserves ~1.5 GB of address
// space at start, hence the larger cap for ours; RSS is what the table reports.
const ADDRESS_SPACE = { nutcracker: 4 * 1024 * MiB, ours: 8 * 1024 * MiB };

async function proxy(kind) {
  const [redisPort, mcPort, statsPort] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, `${kind}.yml`);
  writeFileSync(file, yaml(redisPort, mcPort));
  const [cmd, args] = proxyCommand(kind, {
    file,
    statsPort,
    dir,
    logLevel: 'error',
    // room for the idle connections beside the normal client (defaults otherwise)
    args: ['--max-clients', String(IDLE + 100)],
  });
  // prlimit execs the command: the pid measured is the proxy's
  const child = await startProc('prlimit', [`--as=${ADDRESS_SPACE[kind]}`, '--', cmd, ...args], redisPort);
  await waitPort(mcPort);
  return { pid: child.pid, redisPort, mcPort, stop: async () => child.kill('SIGTERM') };
}

/** The attacker, in a process of its own so that it does not share the measuring event loop. */
const ATTACKER = `
const { connect } = require('node:net');
const [mode, port, total] = process.argv.slice(1);
const send = (prefix, filler) => {
  const s = connect(Number(port), '127.0.0.1');
  s.on('error', () => {});
  s.on('close', () => process.stdout.write('closed\\n'));
  const chunk = Buffer.alloc(Math.floor(65536 / filler.length) * filler.length, filler);
  let written = 0;
  s.once('connect', () => {
    s.write(prefix);
    process.stdout.write('ready\\n');
    const pump = () => {
      while (written < Number(total) && !s.destroyed) {
        written += chunk.length;
        if (!s.write(chunk)) return s.once('drain', pump);
      }
    };
    pump();
  });
};
if (mode === 'get-line') send('get ', 'k'.repeat(249) + ' ');
if (mode === 'junk-line') send('set ', 'x');
if (mode === 'inline') send('GET ', 'a');
if (mode === 'no-read') {
  const s = connect(Number(port), '127.0.0.1');
  s.on('error', () => {});
  s.pause();
  const get = '*2\\r\\n$3\\r\\nGET\\r\\n$4\\r\\nbig4\\r\\n';
  s.once('connect', () => {
    process.stdout.write('ready\\n');
    const pump = () => { for (;;) if (!s.write(get)) return s.once('drain', pump); };
    pump();
  });
}
if (mode === 'idle') {
  let open = 0;
  const batch = () => {
    for (let i = 0; i < 250 && open < Number(total); i++, open++) {
      const s = connect(Number(port), '127.0.0.1');
      s.on('error', () => {});
    }
    if (open < Number(total)) setTimeout(batch, 5);
    else setTimeout(() => process.stdout.write('ready\\n'), 500);
  };
  batch();
}
`;

function attack(mode, port, total) {
  const child = spawn(process.execPath, ['-e', ATTACKER, mode, String(port), String(total)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    // e.g. the proxy is gone and the connection refused: no 'ready' will come
    child.once('exit', () => reject(new Error('the attacker could not start (is the proxy gone?)')));
  });
  return { ready, stop: () => child.kill('SIGKILL'), exited: new Promise((r) => child.once('exit', r)) };
}

/** n sequential GETs on one connection; latency of each in ms. */
async function sequentialGets(port, kind, n = 2000) {
  const s = connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', (e) => reject(new Error(`the normal client could not connect: ${e.code ?? e.message}`)));
  });
  s.on('error', () => {});
  s.setNoDelay(true);
  const req = kind === 'redis' ? '*2\r\n$3\r\nGET\r\n$6\r\nnormal\r\n' : 'get normal\r\n';
  const doneMark = kind === 'redis' ? '\r\nvalue\r\n' : 'END\r\n';
  const lat = [];
  let buf = '';
  let waiting = null;
  s.on('data', (d) => {
    buf += d;
    if (buf.endsWith(doneMark)) {
      buf = '';
      waiting?.resolve();
    }
  });
  s.on('close', () => waiting?.reject(new Error('the normal client was closed')));
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve, reject) => {
      waiting = { resolve, reject };
      s.write(req);
    });
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  waiting = null;
  s.destroy();
  return lat;
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** scenario -> target -> [{ cpu, rssGrowth }] */
const costs = new Map();

function scenario(name, kind, mode, total) {
  return {
    name,
    run: async (h, t) => {
      const port = kind === 'redis' ? h.redisPort : h.mcPort;
      const rss0 = rss(h.pid);
      const cpu0 = cpuSeconds(h.pid);
      const a = mode ? attack(mode, port, total) : null;
      const t0 = Date.now();
      let lat = [];
      let failed = '';
      try {
        await a?.ready;
        lat = await sequentialGets(port, kind);
      } catch (err) {
        failed = err.message;
        console.log(`  ${t.name}: ${name}: ${failed}`);
      }
      const seconds = (Date.now() - t0) / 1000;
      const cost = { cpu: cpuSeconds(h.pid) - cpu0, rssGrowth: rss(h.pid) - rss0, failed };
      a?.stop();
      await a?.exited;
      const per = costs.get(name) ?? new Map();
      costs.set(name, per);
      per.set(t.name, [...(per.get(t.name) ?? []), cost]);
      // the proxy has let go of the attacker before the next round
      await new Promise((r) => setTimeout(r, 1000));
      if (failed) return { rps: 0, p50ms: Number.NaN, p99ms: Number.NaN };
      return { rps: lat.length / seconds, p50ms: pct(lat, 0.5), p99ms: pct(lat, 0.99) };
    },
  };
}

function costTable() {
  const rows = [
    '',
    '',
    "Proxy CPU seconds during a scenario (the normal client's 2,000 GETs with the attacker running) and RSS growth, medians:",
    '',
    '| scenario | nutcracker CPU s | ours CPU s | nutcracker RSS growth MiB | ours RSS growth MiB |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [name, per] of costs) {
    const m = (t, k) => median((per.get(t) ?? []).map((c) => c[k]));
    const nc = 'nutcracker 0.5';
    const ours = 'dds-shard-ambassador';
    const failures = [nc, ours]
      .map((t) => [t, (per.get(t) ?? []).filter((c) => c.failed)])
      .filter(([, f]) => f.length > 0)
      .map(
        ([t, f]) =>
          `${t}, ${f.length} round(s): ${f[0].failed}${Number.isNaN(f.at(-1).rssGrowth) ? ', process gone' : ''}`,
      );
    rows.push(
      `| ${name}${failures.length ? ` (${failures.join('; ')})` : ''} | ${m(nc, 'cpu').toFixed(2)} | ${m(ours, 'cpu').toFixed(2)} | ${(m(nc, 'rssGrowth') / MiB).toFixed(1)} | ${(m(ours, 'rssGrowth') / MiB).toFixed(1)} |`,
    );
  }
  return rows.join('\n');
}

const NOTES = [
  'Shards: 2 redis-server and 2 memcached (`-t 1`) on loopback; nutcracker 0.5.0 and ours (defaults, `--max-clients 10100`)',
  "on the same nutcracker.yaml. A normal client sends 2,000 GETs one after another; the table's req/s, p50 and p99 are its",
  'own, while an attacker (another process) streams 48 MiB of a line that never ends, holds 10,000 idle connections or',
  'pipelines GETs of a 4 KiB value without reading. Our limits cut the non-get memcache line at 2048 bytes and the inline',
  'command at 64 KiB; a get line of 250-byte keys is legal (memcached takes it) and is held, at O(bytes) parsing cost.',
].join('\n');

try {
  await (async () => {
    // the normal key on every shard, and the 4 KiB value the non-reader asks for
    for (const p of redisPorts) {
      const s = connect(p, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write(
        `*3\r\n$3\r\nSET\r\n$6\r\nnormal\r\n$5\r\nvalue\r\n*3\r\n$3\r\nSET\r\n$4\r\nbig4\r\n$4096\r\n${'v'.repeat(4096)}\r\n`,
      );
      await new Promise((r) => setTimeout(r, 100));
      s.destroy();
    }
    for (const p of mcPorts) {
      const s = connect(p, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write('set normal 0 0 5\r\nvalue\r\n');
      await new Promise((r) => setTimeout(r, 100));
      s.destroy();
    }
  })();
  await runBenchmark({
    component: 'shard-ambassador-hostile',
    title: 'shard-ambassador under hostile clients: a normal client beside an attacker (vs nutcracker 0.5)',
    rounds: 3,
    get notes() {
      return NOTES + costTable();
    },
    targets: [
      { name: 'nutcracker 0.5', role: 'peer', start: () => proxy('nutcracker') },
      { name: 'dds-shard-ambassador', role: 'ours', start: () => proxy('ours') },
    ].filter((t) => !process.env.BENCH_TARGETS || new RegExp(process.env.BENCH_TARGETS).test(t.name)),
    scenarios: [
      scenario('memcache, no attacker', 'memcache', null, 0),
      scenario('memcache, a 48 MiB get line never ended', 'memcache', 'get-line', 48 * MiB),
      scenario('memcache, a 48 MiB non-get line', 'memcache', 'junk-line', 48 * MiB),
      scenario('redis, no attacker', 'redis', null, 0),
      scenario('redis, a 48 MiB inline command', 'redis', 'inline', 48 * MiB),
      scenario('redis, 10,000 idle connections', 'redis', 'idle', IDLE),
      scenario('redis, a client that never reads', 'redis', 'no-read', 0),
    ].filter((s) => !process.env.BENCH_ONLY || new RegExp(process.env.BENCH_ONLY).test(s.name)),
  });
} finally {
  for (const p of procs) p.kill('SIGTERM');
}
