import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCert } from './lib/certs.mjs';
import { startNginx } from './lib/nginx.mjs';
import { startHaproxy, startTlsSidecar } from './lib/peers.mjs';
import { freePort, proc, waitPort } from './lib/processes.mjs';
import { runBenchmark } from './lib/runner.mjs';
import { exec, redisBenchmark, tlsBulk } from './lib/tools.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const BULK_MB = Number(process.env.BENCH_BULK_MB ?? 256);
const dir = mkdtempSync(join(tmpdir(), 'dds-bench-tcp-'));
const { cert, key } = await selfSignedCert(dir);
const pem = join(dir, 'tls.pem'); // HAProxy wants certificate and key in one file
writeFileSync(pem, Buffer.concat([readFileSync(cert), readFileSync(key)]));

// Redis: plain for the proxies, and its own TLS port as the no-proxy reference
const redisPort = await freePort();
const redisTlsPort = await freePort();
const redis = proc('redis-server', [
  '--port',
  String(redisPort),
  '--tls-port',
  String(redisTlsPort),
  '--tls-cert-file',
  cert,
  '--tls-key-file',
  key,
  '--tls-auth-clients',
  'no',
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
]);
await waitPort(redisPort);
await waitPort(redisTlsPort);
await exec('redis-cli', ['-p', String(redisPort), 'SET', 'key:__rand_int__', 'x']); // warm

// a byte sink for the bulk transfer: reads and drops everything
const sinkPort = await freePort();
const sink = createServer((s) => {
  s.on('data', () => {});
  s.on('error', () => {});
});
await new Promise((r) => sink.listen(sinkPort, '127.0.0.1', r));

/** A proxy target in front of `redisPort` and one in front of the sink, started together. */
function pair(start) {
  return async () => {
    const [a, b] = await Promise.all([start(redisPort), start(sinkPort)]);
    return { port: a.port, sinkPort: b.port, stop: async () => Promise.all([a.stop(), b.stop()]) };
  };
}

const OURS = 'dds-tls-sidecar --upstream tcp://';
const rb = (h, extra) => ({
  port: h.port,
  extra: ['--tls', '--insecure', '--sni', 'localhost', ...extra.args],
  ...extra.opts,
});

try {
  await runBenchmark({
    component: 'tls-sidecar-tcp',
    title: 'tls-sidecar: TCP mode (TLS terminated, bytes spliced) in front of Redis',
    notes: [
      'Upstreams: redis-server 7.0 (plain) and a Node byte sink. TLS 1.3, ECDSA P-256, for every proxy. redis-benchmark',
      '--tls. 16 KiB values: `-t set,get -d 16384 -c 20 -P 8` (the value in req/s; bytes/s = req/s x 16 KiB each way in',
      'turn). Bulk: socat sends 256 MiB of zeros through TLS to the sink; the value is MB/s. One at a time: `-c 1 -P 1`',
      'PING, the latency a hop adds; Redis reached on its own TLS port (no proxy) is the reference.',
      'Peers: nginx 1.22 stream module (one worker, `listen ssl` + `proxy_pass`), HAProxy 2.6 (one thread, mode tcp,',
      '`bind ssl crt`). Ours: `dds-tls-sidecar --upstream tcp://`, default flags.',
      `Machine load average when the run started: ${loadavg()[0].toFixed(1)} (2 cores shared with other work).`,
    ].join('\n'),
    targets: [
      {
        name: 'nginx stream',
        role: 'peer',
        start: pair(async (upstream) => {
          const port = await freePort();
          return startNginx(
            dir,
            `nginx-stream-${upstream}`,
            '',
            port,
            1,
            `server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    proxy_pass 127.0.0.1:${upstream};
  }`,
          );
        }),
      },
      {
        name: 'HAProxy mode tcp',
        role: 'peer',
        start: pair(async (upstream) => {
          const port = await freePort();
          return startHaproxy(
            dir,
            `haproxy-${upstream}`,
            `frontend fe
  mode tcp
  bind 127.0.0.1:${port} ssl crt ${pem}
  default_backend be
backend be
  mode tcp
  server app 127.0.0.1:${upstream}
`,
            port,
          );
        }),
      },
      {
        name: OURS,
        role: 'ours',
        start: pair((upstream) =>
          startTlsSidecar({ cert, key }, ['--upstream', `tcp://127.0.0.1:${upstream}`]),
        ),
      },
      {
        name: 'Redis TLS port (no proxy)',
        role: 'reference',
        start: async () => ({ port: redisTlsPort, stop: async () => {} }),
      },
    ],
    scenarios: [
      {
        name: 'Redis SET/GET 16 KiB values, -c 20 -P 8',
        run: async (h) => {
          const set = await redisBenchmark(
            rb(h, {
              args: ['-d', '16384'],
              opts: { test: 'set', clients: 20, pipeline: 8, requests: REQUESTS },
            }),
          );
          const get = await redisBenchmark(
            rb(h, {
              args: ['-d', '16384'],
              opts: { test: 'get', clients: 20, pipeline: 8, requests: REQUESTS },
            }),
          );
          return {
            rps: (set.rps + get.rps) / 2,
            p50ms: (set.p50ms + get.p50ms) / 2,
            p99ms: Math.max(set.p99ms, get.p99ms),
          };
        },
      },
      {
        name: `bulk transfer, ${BULK_MB} MiB one way (value: MB/s)`,
        targets: ['nginx stream', 'HAProxy mode tcp', OURS],
        run: (h) => tlsBulk({ port: h.sinkPort, bytes: BULK_MB * 1024 * 1024 }),
      },
      {
        name: 'one command at a time, -c 1 -P 1 PING (added latency)',
        run: (h) =>
          redisBenchmark(
            rb(h, { args: [], opts: { test: 'ping', clients: 1, pipeline: 1, requests: REQUESTS } }),
          ),
      },
    ],
  });
} finally {
  sink.close();
  await redis.stop();
}
