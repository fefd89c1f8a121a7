// health-adapter: /readyz latency under probe load. The target is p99 < 2 ms at 1k
// probes/s. Compared in the same run with nginx answering a fixed JSON body of the same size
// (`return 200`, 1 worker: the floor for any HTTP answer on this machine), with node:http
// answering a constant (the Node ceiling) and with the naive hand-written checker that PINGs
// Redis on every probe (what the adapter's cache avoids).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxConf } from './lib/nginx.mjs';
import { entry, ROOT, runBenchmark } from './lib/runner.mjs';
import { wrk } from './lib/tools.mjs';

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitHttp(url, status = 200, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === status) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${url} did not answer ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startProcess(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], ...opts });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

// The body nginx returns: the adapter's /readyz body for the same checks, so bytes on the wire match.
const SAMPLE_BODY = JSON.stringify({
  status: 'pass',
  releaseId: '0.1.0',
  serviceId: 'dds-health-adapter',
  description: 'readiness: the critical checks of the pod dependencies',
  checks: Object.fromEntries(
    ['redis', 'tcp'].map((name) => [
      `${name}:responseTime`,
      [
        {
          componentId: name,
          componentType: 'datastore',
          observedValue: 0.512,
          observedUnit: 'ms',
          status: 'pass',
          time: new Date().toISOString(),
          critical: true,
          consecutiveFailures: 0,
        },
      ],
    ]),
  ),
});

const DELAY_SCRIPT = join(mkdtempSync(join(tmpdir(), 'dds-bench-wrk-')), 'delay.lua');
writeFileSync(DELAY_SCRIPT, 'function delay()\n  return 10\nend\n');

let redis;
async function sharedRedis() {
  if (redis) return redis;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dds-bench-redis-'));
  const p = startProcess('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
  ]);
  await new Promise((r) => setTimeout(r, 300));
  redis = { port, stop: p.stop };
  return redis;
}

const targets = [
  {
    name: 'nginx return 200',
    role: 'peer',
    async start() {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'dds-bench-nginx-'));
      const conf = nginxConf(
        dir,
        `server {
    listen 127.0.0.1:${port};
    location = /readyz { default_type application/health+json; return 200 '${SAMPLE_BODY}'; }
  }`,
      );
      writeFileSync(join(dir, 'nginx.conf'), conf);
      const p = startProcess('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
      const url = `http://127.0.0.1:${port}/readyz`;
      await waitHttp(url);
      return { url, stop: p.stop };
    },
  },
  {
    name: 'dds health-adapter',
    role: 'ours',
    async start() {
      const r = await sharedRedis();
      const [port, admin] = [await freePort(), await freePort()];
      const p = startProcess(process.execPath, [
        entry('health-adapter'),
        '--listen',
        `127.0.0.1:${port}`,
        '--admin',
        `127.0.0.1:${admin}`,
        '--redis',
        `redis://127.0.0.1:${r.port}`,
        '--tcp',
        `127.0.0.1:${r.port}`,
        '--interval',
        '1s',
        '--log-level',
        'warn',
      ]);
      const url = `http://127.0.0.1:${port}/readyz`;
      await waitHttp(url);
      return { url, stop: p.stop };
    },
  },
  {
    name: 'node:http static answer',
    role: 'reference',
    async start() {
      // the Node ceiling: node:http answering the same bytes from a constant, no logic at all
      const port = await freePort();
      const script = `
        const body = Buffer.from(${JSON.stringify(SAMPLE_BODY)});
        const headers = ['content-type', 'application/health+json', 'content-length', String(body.length), 'cache-control', 'no-store'];
        require('node:http').createServer((req, res) => { res.writeHead(200, headers); res.end(body); }).listen(${port}, '127.0.0.1');
      `;
      const p = startProcess(process.execPath, ['-e', script]);
      const url = `http://127.0.0.1:${port}/readyz`;
      await waitHttp(url);
      return { url, stop: p.stop };
    },
  },
  {
    name: 'naive: PING Redis per probe',
    role: 'baseline',
    async start() {
      const r = await sharedRedis();
      const port = await freePort();
      // a hand-written checker: node:http + ioredis, one PING per request, no cache
      const script = `
        const http = require('node:http');
        const Redis = require('ioredis');
        const redis = new Redis(${r.port}, '127.0.0.1', { enableOfflineQueue: false });
        http.createServer(async (req, res) => {
          try {
            const t0 = performance.now();
            await redis.ping();
            const body = JSON.stringify({ status: 'pass', checks: { 'redis:responseTime': [{ status: 'pass', observedValue: performance.now() - t0, observedUnit: 'ms' }] } });
            res.writeHead(200, { 'content-type': 'application/health+json' }).end(body);
          } catch (e) {
            res.writeHead(503, { 'content-type': 'application/health+json' }).end(JSON.stringify({ status: 'fail', output: e.message }));
          }
        }).listen(${port}, '127.0.0.1');
      `;
      const p = startProcess(process.execPath, ['-e', script], { cwd: ROOT });
      const url = `http://127.0.0.1:${port}/readyz`;
      await waitHttp(url);
      return { url, stop: p.stop };
    },
  },
];

await runBenchmark({
  component: 'health-adapter',
  before: true,
  title: 'health-adapter: /readyz under probe load',
  rounds: 5,
  notes: [
    'Setup: the adapter runs two critical checks (Redis PING+INFO and a TCP connect to the same real redis-server, every 1 s) and serves /readyz from its cache on the lean HTTP/1.1 server from core.',
    '`nginx return 200` (1 worker, the peer) answers the same-sized application/health+json body from its config: the floor for an HTTP answer on this machine. `node:http static answer` (reference) is the Node ceiling: node:http writing the same bytes from a constant. `naive` (baseline) is the hand-written checker the adapter replaces: node:http + ioredis, one Redis PING per probe, no cache.',
    '"10 ms between probes": wrk -t1 -c10 with a delay() hook of 10 ms per connection, about 1000 probes/s in all (the issue\'s rate), latency measured by wrk. "max rate": wrk -t1 -c10 as fast as possible for 5 s.',
    'Issue target: p99 < 2 ms at 1k probes/s.',
  ].join('\n\n'),
  targets,
  scenarios: [
    {
      // wrk's delay() hook: each of 10 connections waits 10 ms between probes (~1000/s in all),
      // latency measured by wrk itself, so no Node client shares the CPU with the target
      name: 'wrk -c10, 10 ms between probes (~1000/s)',
      run: async (h) => {
        const r = await wrk({ url: h.url, connections: 10, seconds: 5, args: ['-s', DELAY_SCRIPT] });
        if (r.non2xx || r.socketErrors) throw new Error(`wrk saw errors against ${h.url}: ${r.raw}`);
        return r;
      },
    },
    {
      name: 'wrk -t1 -c10 (max rate)',
      run: async (h) => {
        const r = await wrk({ url: h.url, connections: 10, seconds: 5 });
        if (r.non2xx || r.socketErrors) throw new Error(`wrk saw errors against ${h.url}: ${r.raw}`);
        return r;
      },
    },
  ],
});
await redis?.stop();
