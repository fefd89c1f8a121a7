// health-adapter: /readyz latency under probe load. The target is p99 < 2 ms at 1k
// probes/s. Compared in the same run with nginx answering a fixed JSON body of the same size
// (`return 200`, 1 worker: the floor for any HTTP answer on this machine) and with the naive
// hand-written checker that PINGs Redis on every probe (what the adapter's cache avoids).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, runBenchmark } from './lib/runner.mjs';
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
      const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /readyz { default_type application/health+json; return 200 '${SAMPLE_BODY}'; }
  }
}
`;
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
        join(ROOT, 'packages/health-adapter/dist/main.js'),
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

/**
 * Open-loop client: sends exactly `rate` requests per second over `connections` keep-alive
 * connections whatever the answers' speed (a kubelet does not wait for a slow pod to probe the
 * next one), and measures each request from its send to the end of its response.
 */
async function paced({ url, rate = 1000, seconds = 5, connections = 10 }) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const total = rate * seconds;
  const latencies = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const began = performance.now();
  await new Promise((resolve) => {
    const finish = () => {
      if (++done === total) resolve();
    };
    const fire = () => {
      const t0 = performance.now();
      get(url, { agent }, (res) => {
        if (res.statusCode !== 200) errors++;
        res.resume();
        res.once('end', () => {
          latencies.push(performance.now() - t0);
          finish();
        });
      }).once('error', () => {
        errors++;
        finish();
      });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - began) * rate) / 1000) + 1);
      while (sent < due) {
        fire();
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - began) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  if (errors) throw new Error(`${errors} failed probes against ${url}`);
  return { rps: total / elapsed, p50ms: pct(50), p99ms: pct(99) };
}

await runBenchmark({
  component: 'health-adapter',
  title: 'health-adapter: /readyz under probe load',
  rounds: 5,
  notes: [
    'Setup: the adapter runs two critical checks (Redis PING+INFO and a TCP connect to the same real redis-server, every 1 s) and serves /readyz from its cache on a plain node:http server.',
    '`nginx return 200` (1 worker) answers the same-sized application/health+json body from its config: the floor for an HTTP answer on this machine.',
    '`naive` is the hand-written checker the adapter replaces: node:http + ioredis, one Redis PING per probe, no cache.',
    '"paced 1000/s": an open-loop Node client sends exactly 1000 probes/s over 10 keep-alive connections for 5 s (latency from send to end of response, so the client\'s own event loop is included for every target alike). "10 ms between probes": wrk -t1 -c10 with a delay() hook of 10 ms per connection, about 1000 probes/s, latency measured by wrk. "wrk -c10 (max rate)": as fast as possible, wrk -t1 -c10 for 5 s.',
    'Issue target: p99 < 2 ms at 1k probes/s.',
  ].join('\n\n'),
  targets,
  scenarios: [
    { name: 'paced 1000 probes/s, 10 conns', run: (h) => paced({ url: h.url }) },
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
