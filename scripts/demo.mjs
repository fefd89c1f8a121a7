// Starts the demo: real servers and every dds component on free loopback ports, then prints what
// to try. Everything runs in the foreground and stops on Ctrl-C (or after --seconds N, for a smoke run).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'dds-demo-'));
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || 0);
const procs = [];

// Ports from below the kernel's ephemeral range: a port 0 asked for and closed again can be taken
// by any outgoing connection before the component binds it (seen when the demo ran beside the
// test suite). 10080 is skipped: fetch() refuses it ("bad port").
const ephemeralLow = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768;
  }
})();
let nextPort = 20000 + Math.floor(Math.random() * Math.max(1, ephemeralLow - 21000));
const bindable = (port) =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
const freePort = async () => {
  for (;;) {
    const port = nextPort++;
    if (port >= ephemeralLow) nextPort = 20000;
    if (port !== 10080 && port < ephemeralLow && (await bindable(port))) return port;
  }
};
const waitPort = async (port) => {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not open`);
};
function run(name, cmd, args) {
  const p = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = join(dir, `${name}.log`);
  p.stdout.on('data', (d) => appendFileSync(log, d));
  p.stderr.on('data', (d) => appendFileSync(log, d));
  p.on('exit', (code) => {
    if (!stopping) console.error(`!! ${name} exited (${code}); see ${log}`);
  });
  procs.push(p);
  return p;
}
const dds = (name, args) =>
  run(name, process.execPath, [join(root, 'packages', name, 'dist/main.js'), ...args]);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const p of procs) p.kill('SIGTERM');
  setTimeout(() => process.exit(0), 1500).unref();
};
process.on('SIGINT', stop);
// never leave servers behind, even when the demo itself fails
process.on('exit', () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
});
process.on('uncaughtException', (err) => {
  console.error(err);
  stop();
});
process.on('SIGTERM', stop);

const P = {};
for (const k of [
  'app',
  'exp',
  'appAdmin',
  'expAdmin',
  'tls',
  'tlsAdmin',
  'r1',
  'r2',
  'r3',
  'm1',
  'm2',
  'shardRedis',
  'shardMc',
  'shardStats',
  'shardAdmin',
  'split',
  'splitAdmin',
  'rl',
  'rlAdmin',
  'metrics',
  'metricsAdmin',
  'health',
  'healthAdmin',
  'logAdmin',
]) {
  P[k] = await freePort();
}

// the legacy app, twice (control and experiment)
dds('demo-app', [
  '--listen',
  `127.0.0.1:${P.app}`,
  '--admin',
  `127.0.0.1:${P.appAdmin}`,
  '--name',
  'control',
]);
dds('demo-app', [
  '--listen',
  `127.0.0.1:${P.exp}`,
  '--admin',
  `127.0.0.1:${P.expAdmin}`,
  '--name',
  'experiment',
  '--message',
  'hello from the EXPERIMENT',
]);
// real servers
for (const k of ['r1', 'r2', 'r3'])
  run(`redis-${k}`, 'redis-server', [
    '--port',
    String(P[k]),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
for (const k of ['m1', 'm2'])
  run(`memcached-${k}`, 'memcached', [
    '-l',
    '127.0.0.1',
    '-p',
    String(P[k]),
    '-U',
    '0',
    '-u',
    'root',
    '-m',
    '32',
  ]);
await Promise.all([P.app, P.exp, P.r1, P.r2, P.r3, P.m1, P.m2].map(waitPort));

// tls-sidecar with a fresh self-signed certificate
spawnSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(dir, 'tls.key'),
    '-out',
    join(dir, 'tls.crt'),
  ],
  { stdio: 'ignore' },
);
dds('tls-sidecar', [
  '--listen',
  `127.0.0.1:${P.tls}`,
  '--admin',
  `127.0.0.1:${P.tlsAdmin}`,
  '--cert',
  join(dir, 'tls.crt'),
  '--key',
  join(dir, 'tls.key'),
  '--upstream',
  `http://127.0.0.1:${P.app}`,
]);

// shard-ambassador with a nutcracker.yaml: 3 Redis shards and 2 memcached shards
// md5 (ketama's classic hash) spreads the demo's six keys over all three shards; fnv1a_64,
// twemproxy's default, happens to put short keys with one prefix on one or two of them
writeFileSync(
  join(dir, 'nutcracker.yaml'),
  `redis:
  listen: 127.0.0.1:${P.shardRedis}
  hash: md5
  distribution: ketama
  redis: true
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 1
  servers:
   - 127.0.0.1:${P.r1}:1 shard-a
   - 127.0.0.1:${P.r2}:1 shard-b
   - 127.0.0.1:${P.r3}:1 shard-c
memcache:
  listen: 127.0.0.1:${P.shardMc}
  hash: fnv1a_64
  distribution: ketama
  servers:
   - 127.0.0.1:${P.m1}:1
   - 127.0.0.1:${P.m2}:1
`,
);
dds('shard-ambassador', [
  '-c',
  join(dir, 'nutcracker.yaml'),
  '-s',
  String(P.shardStats),
  '-a',
  '127.0.0.1',
  '--admin',
  `127.0.0.1:${P.shardAdmin}`,
]);

// 10% experiment
dds('experiment-splitter', [
  '--listen',
  `127.0.0.1:${P.split}`,
  '--admin',
  `127.0.0.1:${P.splitAdmin}`,
  '--control',
  `http://127.0.0.1:${P.app}`,
  '--experiment',
  `http://127.0.0.1:${P.exp}`,
  '--percent',
  '10',
  '--key',
  'cookie:uid',
  '--response-header',
]);

// rate limiter: 5 requests per second per client IP, burst 5
dds('rate-limiter', [
  '--listen',
  `127.0.0.1:${P.rl}`,
  '--admin',
  `127.0.0.1:${P.rlAdmin}`,
  '--upstream',
  `http://127.0.0.1:${P.app}`,
  '--rate',
  '5/s',
  '--burst',
  '5',
  '--key',
  'ip',
  '--headers',
  'all',
]);

// adapters
dds('metrics-adapter', [
  '--redis',
  `redis://127.0.0.1:${P.r1}`,
  '--listen',
  `127.0.0.1:${P.metrics}`,
  '--admin',
  `127.0.0.1:${P.metricsAdmin}`,
]);
dds('health-adapter', [
  '--redis',
  `redis://127.0.0.1:${P.r1}`,
  '--http',
  `http://127.0.0.1:${P.app}/`,
  '--interval',
  '1s',
  '--listen',
  `127.0.0.1:${P.health}`,
  '--admin',
  `127.0.0.1:${P.healthAdmin}`,
]);
mkdirSync(join(dir, 'app-logs'));
const accessLog = join(dir, 'app-logs', 'access.log');
writeFileSync(
  accessLog,
  '127.0.0.1 - - [28/Nov/2026:16:20:00 +0000] "GET /demo HTTP/1.1" 200 12 "-" "curl/7.88.1"\n',
);
dds('log-adapter', [
  '--input',
  join(dir, 'app-logs', '*.log'),
  '--format',
  'auto',
  '--output',
  `file:${join(dir, 'normalized.jsonl')}`,
  '--position-file',
  join(dir, 'positions.json'),
  '--admin',
  `127.0.0.1:${P.logAdmin}`,
]);

await Promise.all([P.tls, P.shardRedis, P.shardMc, P.split, P.rl, P.metrics, P.health].map(waitPort));

console.log(`
dds demo is running (logs and files in ${dir}). Try:

  # tls-sidecar: HTTPS + HTTP/2 in front of the plain-HTTP legacy app
  curl --cacert ${dir}/tls.crt https://localhost:${P.tls}/ --http2 -v 2>&1 | grep -E '^< HTTP|ALPN|hello'
  curl -s http://127.0.0.1:${P.tlsAdmin}/metrics | grep dds_tls_certificate_expiry

  # shard-ambassador: one Redis endpoint in front of 3 shards (twemproxy-compatible)
  redis-cli -p ${P.shardRedis} mset user:1 a user:2 b user:3 c user:4 d user:5 e user:6 f && redis-cli -p ${P.shardRedis} mget user:1 user:2 user:3 user:4 user:5 user:6
  for p in ${P.r1} ${P.r2} ${P.r3}; do echo "shard :$p holds $(redis-cli -p $p --scan | sort | xargs)"; done   # where the keys landed
  printf 'set k 0 0 5\\r\\nhello\\r\\nget k\\r\\n' | nc -q1 127.0.0.1 ${P.shardMc}
  nc 127.0.0.1 ${P.shardStats} </dev/null; echo    # twemproxy's JSON stats: a raw TCP port, as nutcracker's -s
  curl -s http://127.0.0.1:${P.shardAdmin}/metrics | grep '^dds_shard_requests_total'

  # experiment-splitter: sticky 10% experiment (same uid -> same variant)
  for u in 1 2 3 4 5 6 7 8 9 10 11 12; do curl -s -b uid=user$u http://127.0.0.1:${P.split}/; done
  curl -s http://127.0.0.1:${P.splitAdmin}/experiments

  # rate-limiter: 5/s with burst 5, then 429 with Retry-After and RateLimit headers
  for i in $(seq 15); do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:${P.rl}/; done; echo
  curl -si http://127.0.0.1:${P.rl}/ | grep -i ratelimit

  # adapters
  curl -s http://127.0.0.1:${P.metrics}/metrics | grep -E '^redis_(up|connected_clients|memory_used_bytes) '
  curl -s 'http://127.0.0.1:${P.health}/readyz?verbose'
  echo '127.0.0.1 - - [28/Nov/2026:16:21:00 +0000] "POST /api HTTP/1.1" 201 5 "-" "demo"' >> ${accessLog}
  timeout 10 tail -n +1 -F ${dir}/normalized.jsonl 2>/dev/null | grep -m1 '"POST"'   # the line above, normalized

  # every component: /healthz /readyz /metrics /config on its admin port, e.g.
  curl -s http://127.0.0.1:${P.rlAdmin}/readyz

Ctrl-C stops everything.`);
if (seconds > 0) setTimeout(stop, seconds * 1000);
