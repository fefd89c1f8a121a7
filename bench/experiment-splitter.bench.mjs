import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './lib/nginx.mjs';
import { nodeMinProxyTarget } from './lib/node-min-proxy.mjs';
import { nodePipeTarget } from './lib/node-pipe.mjs';
import { freePort, proc, waitHttp } from './lib/processes.mjs';
import { entry, ROOT, runBenchmark } from './lib/runner.mjs';
import { wrk } from './lib/tools.mjs';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[1] === SELF && process.argv[2] === '--http-proxy-baseline') {
  httpProxyBaseline(Number(process.argv[3]), process.argv[4], process.argv[5]);
} else {
  await bench();
}

/** The baseline: node:http + http-proxy, cookie parsed per request, string hash, 10% split. */
function httpProxyBaseline(port, control, experiment) {
  const httpProxy = createRequire(import.meta.url)('http-proxy');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  const proxy = httpProxy.createProxyServer({ agent, xfwd: true });
  proxy.on('error', (_e, _req, res) => {
    res.writeHead(502);
    res.end();
  });
  const hash = (s) => {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return (h >>> 0) % 10000;
  };
  http
    .createServer((req, res) => {
      const uid = /(?:^|;\s*)uid=([^;]*)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
      const inExp = hash(uid) < 1000;
      req.headers['x-dds-variant'] = inExp ? 'experiment' : 'control';
      proxy.web(req, res, { target: inExp ? experiment : control });
    })
    .listen(port, '127.0.0.1');
}

async function bench() {
  const dir = mkdtempSync(join(tmpdir(), 'dds-bench-splitter-'));
  const [controlPort, expPort] = [await freePort(), await freePort()];
  const backends = await startNginx(
    dir,
    'backends',
    `
  server { listen 127.0.0.1:${controlPort}; keepalive_requests 1000000; location / { return 200 "control\\n"; } }
  server { listen 127.0.0.1:${expPort}; keepalive_requests 1000000; location / { return 200 "experiment\\n"; } }`,
    controlPort,
  );
  const control = `http://127.0.0.1:${controlPort}`;
  const experiment = `http://127.0.0.1:${expPort}`;
  const script = join(dir, 'users.lua');
  writeFileSync(
    script,
    `math.randomseed(42)
request = function()
  return wrk.format(nil, nil, { ["Cookie"] = "uid=u" .. math.random(1, 1000000) })
end
`,
  );

  try {
    const results = await runBenchmark({
      component: 'experiment-splitter',
      before: true,
      title: 'experiment-splitter: sticky 10% split (wrk -t1 -c50, random user per request)',
      notes: [
        'Setup: two nginx `return 200` backends with keep-alive; every request carries a random `uid` cookie, so',
        'about 10% go to the experiment backend. Peer: nginx, `split_clients "checkout-2026$cookie_uid"` 10% (MurmurHash2),',
        '`proxy_http_version 1.1` + upstream `keepalive 64`, X-Forwarded-For and the variant header set.',
        'Ours: `dds-experiment-splitter --percent 10 --key cookie:uid` (one process, default flags: X-Forwarded-*,',
        'variant + experiment headers, per-variant metrics and sliding windows, guard off).',
        'Baseline: node:http + http-proxy (keep-alive agent, xfwd) with a regexp cookie parse and FNV hash.',
        'Node ceiling: one Node process piping raw bytes to the control backend (no HTTP parsing): what no HTTP proxy in',
        'one Node process can beat on this machine. Minimal HTTP splitter (bench/lib/node-min-proxy.mjs): the least HTTP',
        'work a sticky splitter must do, in one Node process: find the head end, read the uid cookie, hash, add one',
        'header, forward the head bytes; frame responses by Content-Length. No validation, no request bodies, no',
        'pooling, no metrics: a bound on what a correct Node splitter can reach, not a proxy to run.',
        'Second scenario: `--workers 2` against nginx `worker_processes 2` (the load tool and backends share the',
        'same 2 cores). See packages/experiment-splitter/README.md for CPU time per request of each target.',
      ].join('\n'),
      targets: [
        {
          name: 'nginx split_clients (1 worker)',
          role: 'peer',
          start: () => nginxSplit(dir, 1, controlPort, expPort),
        },
        {
          name: 'nginx split_clients (2 workers)',
          role: 'peer',
          start: () => nginxSplit(dir, 2, controlPort, expPort),
        },
        {
          name: 'dds-experiment-splitter',
          role: 'ours',
          start: () => splitter(1, control, experiment),
        },
        {
          name: 'dds-experiment-splitter --workers 2',
          role: 'ours',
          start: () => splitter(2, control, experiment),
        },
        {
          name: 'Node ceiling: raw socket pipe (no HTTP)',
          role: 'reference',
          start: nodePipeTarget(controlPort),
        },
        {
          name: 'Node ceiling: minimal HTTP splitter',
          role: 'reference',
          start: nodeMinProxyTarget(controlPort, expPort, 10),
        },
        {
          name: 'http-proxy splitter',
          role: 'baseline',
          start: async () => {
            const port = await freePort();
            const p = proc(process.execPath, [
              SELF,
              '--http-proxy-baseline',
              String(port),
              control,
              experiment,
            ]);
            await waitHttp(`http://127.0.0.1:${port}/`);
            return { ...p, port };
          },
        },
      ],
      scenarios: [
        {
          name: 'GET /, random users, 10% split (1 process)',
          targets: [
            'nginx split_clients (1 worker)',
            'dds-experiment-splitter',
            'http-proxy splitter',
            'Node ceiling: raw socket pipe (no HTTP)',
            'Node ceiling: minimal HTTP splitter',
          ],
          run: (h) => load(h.port, script),
        },
        {
          name: 'GET /, random users, 10% split (2 processes)',
          targets: ['nginx split_clients (2 workers)', 'dds-experiment-splitter --workers 2'],
          run: (h) => load(h.port, script),
        },
      ],
    });
    recordBaselineRatio(results);
  } finally {
    await backends.stop();
  }
}

/** The runner reports ratios to the peer; the issue also asks for ours / http-proxy. */
function recordBaselineRatio(results) {
  const rps = (name) => results.find((r) => r.target === name)?.rps;
  const ratio = rps('dds-experiment-splitter') / rps('http-proxy splitter');
  const line = `Ours / http-proxy splitter (1 process): **${ratio.toFixed(2)}x** throughput.`;
  console.log(line);
  const file = join(ROOT, 'docs/benchmarks.md');
  const end = '<!-- bench:experiment-splitter:end -->';
  writeFileSync(file, readFileSync(file, 'utf8').replace(end, `\n${line}\n${end}`));
}

function load(port, script) {
  return wrk({ url: `http://127.0.0.1:${port}/`, connections: 50, seconds: 5, args: ['-s', script] });
}
async function nginxSplit(dir, workers, controlPort, expPort) {
  const port = await freePort();
  return startNginx(
    dir,
    `split-${workers}`,
    `
  upstream control { server 127.0.0.1:${controlPort}; keepalive 64; }
  upstream experiment { server 127.0.0.1:${expPort}; keepalive 64; }
  split_clients "checkout-2026\${cookie_uid}" $variant { 10% experiment; * control; }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://$variant;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Dds-Variant $variant;
    }
  }`,
    port,
    workers,
  );
}

async function splitter(workers, control, experiment) {
  const port = await freePort();
  const p = proc(process.execPath, [
    entry('experiment-splitter'),
    '--workers',
    String(workers),
    '--listen',
    `127.0.0.1:${port}`,
    '--admin',
    `127.0.0.1:${await freePort()}`,
    '--control',
    control,
    '--experiment',
    experiment,
    '--percent',
    '10',
    '--key',
    'cookie:uid',
    '--salt',
    'checkout-2026',
    '--log-level',
    'warn',
  ]);
  await waitHttp(`http://127.0.0.1:${port}/`);
  return { ...p, port };
}
