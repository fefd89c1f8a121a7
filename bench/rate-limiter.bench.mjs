import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startNginx } from './lib/nginx.mjs';
import { nodeMinProxyTarget } from './lib/node-min-proxy.mjs';
import { nodePipeTarget } from './lib/node-pipe.mjs';
import { freePort, proc, waitHttp, waitPort } from './lib/processes.mjs';
import { entry, runBenchmark } from './lib/runner.mjs';
import { wrk } from './lib/tools.mjs';

// Accuracy: limits per second, each with a burst of 0.1 s (at most 1% over the 10 s total),
// offered twice the limit for 10 s.
const LIMITS = [200, 1000];
const SECONDS = 10;

const dir = mkdtempSync(join(tmpdir(), 'dds-bench-ratelimit-'));
const upPort = await freePort();
const upstream = await startNginx(
  dir,
  'upstream',
  `server { listen 127.0.0.1:${upPort}; keepalive_requests 1000000; location / { return 200 "ok\\n"; } }`,
  upPort,
);
const redisPort = await freePort();
const redis = proc('redis-server', [
  '--port',
  String(redisPort),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]);
await waitPort(redisPort);

const targets = {
  nginx:
    (rate, burst, workers = 1) =>
    async () => {
      const port = await freePort();
      return startNginx(
        dir,
        `limit-${rate}-${workers}`,
        `limit_req_zone $binary_remote_addr zone=per_ip:10m rate=${rate}r/s;
  upstream app { server 127.0.0.1:${upPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / {
      limit_req zone=per_ip burst=${burst} nodelay;
      limit_req_status 429;
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }`,
        port,
        workers,
      );
    },
  ours: (rate, burst, extra) => async () => {
    const port = await freePort();
    const admin = await freePort();
    const p = proc(process.execPath, [
      entry('rate-limiter'),
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      `http://127.0.0.1:${upPort}`,
      '--admin',
      `127.0.0.1:${admin}`,
      ...(rate ? ['--rate', `${rate}/s`] : ['--config', noPolicyFile()]),
      '--burst',
      String(burst),
      '--key',
      'ip',
      '--redis-prefix',
      `bench:${rate}:${Date.now()}:`,
      '--redis-timeout',
      '2s', // a loaded machine must not turn slow answers into fail-open admissions
      '--log-level',
      'warn',
      ...extra,
    ]);
    await waitHttp(`http://127.0.0.1:${port}/`);
    return { ...p, port, admin };
  },
};
let failOpen = 0;

/** A policy no request matches: the reference run measures the proxy path without limiting. */
function noPolicyFile() {
  const file = join(dir, 'no-policy.yaml');
  writeFileSync(
    file,
    'policies:\n  - name: never\n    match: { pathPrefix: /never }\n    limits: [{ rate: 1/s }]\n',
  );
  return file;
}

/** Requests a target admitted without a Redis decision (they would inflate its numbers). */
async function failOpenEvents(h) {
  return (await metrics(h, ['dds_ratelimit_fail_open_total']))[0];
}

/** Values of metrics in one scrape (the event-loop lag figures reset on every scrape). */
async function metrics(h, names) {
  if (!h.admin) return names.map(() => Number.NaN);
  const text = await (await fetch(`http://127.0.0.1:${h.admin}/metrics`)).text();
  return names.map((n) => Number(new RegExp(`^${n} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN));
}
const distributed = ['--redis', `redis://127.0.0.1:${redisPort}`];

try {
  // Admission accuracy first (its numbers go into the notes of the throughput table).
  const accuracy = [];
  const sliding = ['--algorithm', 'sliding-window'];
  for (const [limit, name, start, burst] of LIMITS.flatMap((limit) => [
    [limit, 'nginx limit_req', targets.nginx(limit, limit / 10), limit / 10],
    [limit, 'dds-rate-limiter local', targets.ours(limit, limit / 10, []), limit / 10],
    [limit, 'dds-rate-limiter redis', targets.ours(limit, limit / 10, distributed), limit / 10],
    [limit, 'dds-rate-limiter local, sliding window', targets.ours(limit, 0, sliding), 0],
    [
      limit,
      'dds-rate-limiter redis, sliding window',
      targets.ours(limit, 0, [...sliding, ...distributed]),
      0,
    ],
  ])) {
    const h = await start();
    try {
      // warm-up (JIT, connection pools), then a pause that refills the bucket
      await offer(`http://127.0.0.1:${h.port}`, 2 * limit, 0.5);
      await new Promise((r) => setTimeout(r, 1000));
      await metrics(h, []); // a scrape resets the event-loop lag figures: measure the run only
      const r = await offer(`http://127.0.0.1:${h.port}`, 2 * limit, SECONDS);
      // the limiter's worst event-loop stall during the run: requests queued behind it arrive at once
      const [failOpen, stall] = await metrics(h, [
        'dds_ratelimit_fail_open_total',
        'dds_nodejs_eventloop_lag_max_seconds',
      ]);
      r.failOpen = failOpen;
      r.stallMs = 1000 * stall;
      const expected = limit * (r.spanMs / 1000) + burst + (burst ? 1 : 0);
      accuracy.push({ limit, name, ...r, expected, error: (r.admitted - expected) / expected });
      console.log(
        `accuracy ${limit}/s ${name}: offered ${r.offered}, answered within ${(r.spanMs / 1000).toFixed(2)} s, admitted ${r.admitted} (limit allows ${expected.toFixed(0)}: ${(100 * (r.admitted / expected - 1)).toFixed(2)}%), refused ${r.refused}, other ${r.other}, fail-open ${r.failOpen}, max event-loop stall ${r.stallMs.toFixed(0)} ms`,
      );
    } finally {
      await h.stop();
    }
  }
  const accuracyTable = [
    '',
    `Admission accuracy under overload: each limit (burst = 0.1 s of it) offered twice the limit for ${SECONDS} s by a paced`,
    'client (undici, 64 connections, in the runner process) after a 0.5 s warm-up and a 1 s pause; "allowed" = rate x span (first request to last answer)',
    '+ burst + 1 (GCRA), rate x span for the sliding window (which may also admit up to one more window at the start:',
    'N per fixed window); "limiter stall" = the longest event-loop stall of our process during the run.',
    '',
    '| limit | target | offered | span s | admitted | allowed | error | refused (429) | other | fail-open | limiter stall ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...accuracy.map(
      (a) =>
        `| ${a.limit}/s | ${a.name} | ${a.offered} | ${(a.spanMs / 1000).toFixed(2)} | ${a.admitted} | ${a.expected.toFixed(0)} | ${(100 * a.error).toFixed(2)}% | ${a.refused} | ${a.other} | ${Number.isFinite(a.failOpen) ? a.failOpen : '-'} | ${Number.isFinite(a.stallMs) ? a.stallMs.toFixed(0) : '-'} |`,
    ),
  ].join('\n');

  await runBenchmark({
    component: 'rate-limiter',
    before: true,
    title: 'rate-limiter: limit per client IP in front of nginx return 200 (wrk -t1 -c50)',
    // a getter: read when the results are recorded, after the fail-open count is known
    get notes() {
      return notesText();
    },
    targets: [
      { name: 'nginx limit_req (1 worker)', role: 'peer', start: targets.nginx(1_000_000, 1_000_000) },
      { name: 'dds-rate-limiter local', role: 'ours', start: targets.ours(1_000_000, 1_000_000, []) },
      {
        name: 'dds-rate-limiter redis',
        role: 'ours',
        start: targets.ours(1_000_000, 1_000_000, distributed),
      },
      { name: 'dds proxy path, no limit', role: 'reference', start: targets.ours(0, 0, []) },
      {
        name: 'nginx limit_req (2 workers)',
        role: 'peer',
        start: targets.nginx(1_000_000, 1_000_000, 2),
      },
      {
        name: 'dds-rate-limiter redis --workers 2',
        role: 'ours',
        start: targets.ours(1_000_000, 1_000_000, [...distributed, '--workers', '2']),
      },
      { name: 'Node ceiling: raw socket pipe (no HTTP)', role: 'reference', start: nodePipeTarget(upPort) },
      {
        name: 'Node ceiling: minimal HTTP forwarder',
        role: 'reference',
        start: nodeMinProxyTarget(upPort, upPort, 0),
      },
    ],
    scenarios: [
      {
        name: 'GET /, one client IP, limit above the load',
        targets: [
          'nginx limit_req (1 worker)',
          'dds-rate-limiter local',
          'dds-rate-limiter redis',
          'dds proxy path, no limit',
          'Node ceiling: raw socket pipe (no HTTP)',
          'Node ceiling: minimal HTTP forwarder',
        ],
        run: async (h) => {
          const before = await failOpenEvents(h);
          const r = await wrk({ url: `http://127.0.0.1:${h.port}/`, connections: 50, seconds: 5 });
          if (h.admin) failOpen += (await failOpenEvents(h)) - before;
          if (r.non2xx || r.socketErrors)
            console.log(`  (non-2xx ${r.non2xx}, socket errors ${r.socketErrors})`);
          return r;
        },
      },
      {
        name: 'GET /, one client IP, limit above the load (2 processes)',
        targets: ['nginx limit_req (2 workers)', 'dds-rate-limiter redis --workers 2'],
        run: (h) => wrk({ url: `http://127.0.0.1:${h.port}/`, connections: 50, seconds: 5 }),
      },
    ],
  });

  function notesText() {
    return [
      'Setup: one nginx `return 200` upstream (keep-alive). Peer: nginx 1 worker, `limit_req_zone $binary_remote_addr',
      'rate=1000000r/s` + `limit_req burst=1000000 nodelay` (above the offered load: every request is checked, none',
      'refused), `proxy_http_version 1.1`, upstream `keepalive 64`, X-Forwarded-For/-Proto. Ours: `dds-rate-limiter',
      '--rate 1000000/s --burst 1000000 --key ip` (one process, default flags), local mode, and distributed mode',
      '(`--redis`, one EVALSHA per event-loop turn for all its requests, local redis-server). Targets: local >= 0.8x, distributed',
      '>= 0.5x. The Node ceiling on this machine is about 0.7x nginx for one process (see /work/shared/PERFORMANCE.md).',
      "Reference: the same binary with a policy no request matches, i.e. core's proxy path without limiting.",
      'Node ceiling: one Node process piping raw bytes to the upstream (no HTTP parsing): what no HTTP proxy in one Node',
      'process can beat on this machine. Minimal HTTP forwarder (bench/lib/node-min-proxy.mjs): the least HTTP work',
      'any per-request proxy must do in one Node process (find the head end, add one header, forward the bytes, frame',
      'responses by Content-Length; no validation, no limiting, no pooling): a bound on what a correct one can reach.',
      'Second scenario: `--workers 2` in distributed mode (local limits are per process, so workers need --redis) against',
      'nginx `worker_processes 2` (one shared limit_req zone); the load tool, Redis and the upstream share the same 2 cores.',
      `Requests the redis target admitted by failing open (Redis slower than --redis-timeout 2s) during wrk: ${failOpen}.`,
      accuracyTable,
    ].join('\n');
  }
} finally {
  await upstream.stop();
  await redis.stop();
}

/**
 * Offers `perSecond` requests per second for `seconds`, paced in 5 ms ticks; counts outcomes.
 * The span runs to the last answer, so a target that falls behind is not credited with a
 * shorter span than the one it decided over.
 */
async function offer(origin, perSecond, seconds) {
  const pool = new Pool(origin, { connections: 64, pipelining: 1 });
  const counts = { admitted: 0, refused: 0, other: 0 };
  const total = Math.round(perSecond * seconds);
  const pending = new Set();
  const start = performance.now();
  let sent = 0;
  let last = start; // the last answer: decisions happen between start and it
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000) + 1);
    for (; sent < due; sent++) {
      const p = pool.request({ path: '/', method: 'GET' }).then(
        async (r) => {
          await r.body.dump();
          last = performance.now();
          if (r.statusCode === 200) counts.admitted++;
          else if (r.statusCode === 429) counts.refused++;
          else counts.other++;
        },
        () => counts.other++,
      );
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  await pool.close();
  return { offered: total, spanMs: last - start, ...counts };
}
