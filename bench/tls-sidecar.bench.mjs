// tls-sidecar: TLS termination in front of the same plain-HTTP upstream (nginx `return 200`,
// keep-alive), in one run: (a) nginx with one worker terminating TLS (the peer), (b)
// dds-tls-sidecar (one process). Scenarios: HTTPS keep-alive throughput (wrk), new TLS
// connections per second (wrk with `Connection: close`: one full handshake per request), and
// HTTP/2 throughput (h2load). Same ECDSA P-256 certificate, TLS 1.2 + 1.3, for both.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCert } from './lib/certs.mjs';
import { startNginx } from './lib/nginx.mjs';
import { nodePipeTarget } from './lib/node-pipe.mjs';
import { startTlsSidecar } from './lib/peers.mjs';
import { freePort, waitPort } from './lib/processes.mjs';
import { runBenchmark } from './lib/runner.mjs';
import { h2load, wrk } from './lib/tools.mjs';

const dir = mkdtempSync(join(tmpdir(), 'dds-bench-tls-'));
const { cert, key } = await selfSignedCert(dir);

const upstreamPort = await freePort();
const upstream = await startNginx(
  dir,
  'upstream',
  `server { listen 127.0.0.1:${upstreamPort}; keepalive_requests 1000000; location / { return 200 "hello\\n"; } }`,
  upstreamPort,
);

const workers = Number(process.env.BENCH_TLS_WORKERS ?? 1);
const OURS = workers > 1 ? `dds-tls-sidecar --workers ${workers}` : 'dds-tls-sidecar';
const OURS_LOGGED = `${OURS} --access-log file`;

/** Our target, with more flags. */
function ours(name, extra) {
  return {
    name,
    role: 'ours',
    start: () =>
      startTlsSidecar({ cert, key }, [
        '--upstream',
        `http://127.0.0.1:${upstreamPort}`,
        '--workers',
        String(workers),
        ...extra,
      ]),
  };
}
const hs = { connections: 20, seconds: 5, args: ['-H', 'Connection: close'] };

try {
  await runBenchmark({
    // BENCH_TLS_WORKERS=2: nginx with 2 workers against `--workers 2`, recorded in its own section
    before: true,
    component: workers > 1 ? `tls-sidecar-${workers}-workers` : 'tls-sidecar',
    title: `tls-sidecar: TLS termination in front of a keep-alive upstream${workers > 1 ? ` (${workers} processes each)` : ''}`,
    notes: [
      'Upstream: nginx `return 200` (6-byte body), keep-alive. Certificate: ECDSA P-256, TLS 1.2 + 1.3 (clients negotiate 1.3).',
      `Peer: nginx ${workers} worker(s), \`listen ssl http2\`, Mozilla-intermediate ciphers, \`proxy_http_version 1.1\` + upstream`,
      '`keepalive 64`, X-Forwarded-For/-Proto set, `keepalive_requests 1000000`. Ours: `dds-tls-sidecar` (`--workers` as many,',
      'default flags: X-Forwarded-*, HSTS off, metrics on). keep-alive: `wrk -t1 -c50`. handshakes: `wrk -t1 -c20 -H',
      '"Connection: close"`, so every request is a new TCP connection with a full TLS 1.3 handshake (wrk does not',
      'resume sessions). HTTP/2: `h2load -c10 -m10 -n100000`.',
      `\`${OURS_LOGGED}\`: the same with \`--access-log file:PATH\`, one JSON record per request: the cost of the access log.`,
      'Reference: a bare Node TLS server (`http2.createSecureServer({allowHTTP1})` answering `hello` itself, no upstream',
      'hop): the ceiling of one Node process for TLS on this machine; ours / reference shows what the proxy hop costs.',
      'Node ceiling: one Node process terminating TLS and piping the raw bytes to the upstream (no HTTP parsing): what',
      'no HTTP proxy in one Node process can beat.',
      `Machine load average when the run started: ${loadavg()[0].toFixed(1)} (2 cores shared with other work; absolute`,
      'numbers move a lot between runs, the same-run ratios much less).',
    ].join('\n'),
    targets: [
      {
        name: `nginx TLS (${workers} worker)`,
        role: 'peer',
        start: async () => {
          const port = await freePort();
          return startNginx(
            dir,
            'frontend',
            `
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers on;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host $host;
    }
  }`,
            port,
            workers,
          );
        },
      },
      ours(OURS, []),
      // the same with one access record per request written to a file: what the log costs
      { ...ours(OURS_LOGGED, ['--access-log', `file:${join(dir, 'access.log')}`]), before: false },
      {
        // TLS termination and a raw byte pipe, no HTTP: the ceiling of a TLS proxy in one Node process
        name: 'Node ceiling: TLS socket pipe (no HTTP)',
        role: 'reference',
        start: nodePipeTarget(upstreamPort, { cert, key }),
      },
      {
        // Not a proxy: the fastest any single Node TLS server can answer here, for scale.
        name: 'node:https hello (no proxy)',
        role: 'reference',
        start: async () => {
          const port = await freePort();
          const p = proc(process.execPath, [
            '--input-type=module',
            '-e',
            `import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
createSecureServer({ allowHTTP1: true, noDelay: true, cert: readFileSync(${JSON.stringify(cert)}), key: readFileSync(${JSON.stringify(key)}) },
  (q, r) => r.end('hello\\n')).listen(${port}, '127.0.0.1');`,
          ]);
          await waitPort(port);
          return { ...p, port };
        },
      },
    ],
    scenarios: [
      {
        name: 'HTTPS keep-alive, wrk -c50 (HTTP/1.1)',
        run: (h) => checked(wrk({ url: `https://127.0.0.1:${h.port}/`, connections: 50, seconds: 5 })),
      },
      {
        name: 'new TLS connections/s (full handshake + 1 request each)',
        targets: [
          `nginx TLS (${workers} worker)`,
          OURS,
          'Node ceiling: TLS socket pipe (no HTTP)',
          'node:https hello (no proxy)',
        ],
        run: (h) => checked(wrk({ url: `https://127.0.0.1:${h.port}/`, ...hs })),
      },
      {
        name: 'HTTP/2, h2load -c10 -m10',
        // the pipe speaks HTTP/1.1 only
        targets: [`nginx TLS (${workers} worker)`, OURS, OURS_LOGGED, 'node:https hello (no proxy)'],
        run: async (h) => {
          const r = await h2load({
            url: `https://127.0.0.1:${h.port}/`,
            clients: 10,
            streams: 10,
            requests: 100_000,
          });
          if (r.failed) throw new Error(`h2load: ${r.failed} failed requests\n${r.raw}`);
          return r;
        },
      },
    ],
  });
} finally {
  await upstream.stop();
}

async function checked(p) {
  const r = await p;
  if (r.non2xx || !Number.isFinite(r.rps)) throw new Error(`wrk saw failures:\n${r.raw}`);
  return r;
}

// nginx's master must get SIGTERM (SIGKILL would orphan its workers).
function proc(cmd, args, signal = 'SIGKILL') {
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((r) => child.on('exit', r));
  return {
    child,
    async stop() {
      child.kill(signal);
      await exited;
    },
  };
}
