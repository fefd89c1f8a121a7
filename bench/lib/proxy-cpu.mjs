// CPU cost of core's shared HTTP reverse-proxy hot path (proxyRequest), A/B between builds.
// req/s is too noisy on a shared, loaded machine; CPU time of the proxy process (utime+stime
// from /proc/<pid>/stat) divided by the requests it served is much steadier.
//
//   node bench/lib/proxy-cpu.mjs [--rounds 5] [--seconds 4] [--nginx] [--together] [--browser] [name=/path/to/core/dist/index.js ...]
//
// The proxy listens with core's lean HTTP/1.1 server (createHttp1Server), as the components do
// (builds older than it listen with node:http).
//
// Without variants it compares `baseline` (/tmp/dds-core-baseline/dist/index.js, a copy of an
// older build: `cp -r packages/core/dist /tmp/dds-core-baseline/ && ln -s $PWD/node_modules
// /tmp/dds-core-baseline/`) against `current` (packages/core/dist). --nginx adds nginx (1 worker)
// proxying the same upstream as a reference; a variant `direct=direct` is node:http answering by
// itself (the floor for anything built on node:http). The upstream is nginx `return 200` (its own process).
// Rounds alternate the order of the variants; medians are printed. --together runs all variants
// at the same time, each under its own wrk, so they share whatever else loads the machine: the
// per-round ratios are then far steadier than sequential runs. Not part of any test run.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nginxConf } from './nginx.mjs';
import { median, ROOT } from './runner.mjs';
import { exec } from './tools.mjs';

const SELF = fileURLToPath(import.meta.url);

/** Reference: node:http answering by itself what the upstream answers (no proxying). */
async function direct(port) {
  const { createServer: createHttp } = await import('node:http');
  createHttp((_req, res) => {
    res.writeHead(200, ['server', 'nginx', 'content-type', 'text/plain', 'x-dds-shard', 'a']);
    res.end('ok\n');
  }).listen(port, '127.0.0.1', () => console.log('listening'));
}

/** The proxy under test: createHttp1Server + proxyRequest, hooks like a component's. */
async function serve(coreIndex, port, upstreamUrl) {
  const core = await import(pathToFileURL(coreIndex).href);
  const upstream = core.createUpstream(upstreamUrl, {});
  let failed = 0;
  const hooks = {
    trusted: new core.TrustedProxies([]),
    proto: 'http',
    forwarded: false,
    draining: () => false,
    responseHeaders: () => ['x-dds-shard', 'a'],
    onDone: (_req, status) => {
      if (status >= 500) failed++; // 499s: wrk stops with requests in flight
    },
  };
  // core's lean HTTP/1.1 server (what the proxying components use); node:http in older builds
  const front = core.createHttp1Server ?? core.createHttpServer;
  const server = front(
    { maxHeaderSize: 16384, headerTimeout: 10_000, requestTimeout: 60_000, idleTimeout: 60_000 },
    (req, res) => core.proxyRequest(req, res, upstream, hooks),
  );
  server.listen(port, '127.0.0.1', () => console.log('listening'));
  process.on('SIGTERM', () => {
    if (failed) console.error(`proxy ${coreIndex}: ${failed} requests ended with 5xx`);
    process.exit(0);
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}

function waitPort(port) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const tryOnce = () => {
      const s = createServer(); // port busy => someone listens
      s.once('error', () => resolve());
      s.listen(port, '127.0.0.1', () =>
        s.close(() => (Date.now() > deadline ? reject(new Error(`port ${port}`)) : setTimeout(tryOnce, 50))),
      );
    };
    tryOnce();
  });
}

async function startNginx(name, body, port) {
  const dir = mkdtempSync(join(tmpdir(), `dds-proxy-cpu-${name}-`));
  writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir, body));
  const proc = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await waitPort(port);
  // the worker does the work; the master only forks it
  let worker = proc.pid;
  for (let i = 0; i < 50; i++) {
    const kids = readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim();
    if (kids) {
      worker = Number(kids.split(' ')[0]);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: worker,
    stop: () => {
      proc.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startProxy(coreIndex, port, upstream) {
  // `path|--v8-flag ...` runs that build with extra node flags
  const [path, flags = ''] = coreIndex.split('|');
  const args = path === 'direct' ? ['--direct', String(port)] : ['--serve', path, String(port), upstream];
  const proc = spawn(process.execPath, [...flags.split(' ').filter(Boolean), SELF, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    proc.stdout.once('data', resolve);
    proc.once('exit', (c) => reject(new Error(`proxy exited ${c}`)));
  });
  return { pid: proc.pid, stop: () => proc.kill('SIGTERM') };
}

// what a browser sends (--browser): more header work per request than wrk's bare GET
const BROWSER = [
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Accept-Language: en-US,en;q=0.5',
  'Accept-Encoding: gzip, deflate, br, zstd',
  'Cookie: session=4f2a9c1e7b; theme=dark; uid=u123456',
  'Referer: https://shop.example.com/cart',
  'Sec-Fetch-Mode: navigate',
].flatMap((h) => ['-H', h]);
let wrkHeaders = [];

async function measure(target, port, seconds, warm = true) {
  const url = `http://127.0.0.1:${port}/`;
  if (warm) await exec('wrk', ['-t1', '-c50', '-d1s', ...wrkHeaders, url]); // warm-up (JIT, pool connections)
  const before = cpuTicks(target.pid);
  const out = await exec('wrk', ['-t1', '-c50', `-d${seconds}s`, ...wrkHeaders, url]);
  const ticks = cpuTicks(target.pid) - before;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (non2xx) throw new Error(`${non2xx} non-2xx responses`);
  const hz = 100; // USER_HZ on Linux
  return { us: (ticks / hz / requests) * 1e6, rps };
}

async function main() {
  const args = process.argv.slice(2);
  let rounds = 5;
  let seconds = 4;
  let withNginx = false;
  let together = false;
  const variants = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i] === '--seconds') seconds = Number(args[++i]);
    else if (args[i] === '--nginx') withNginx = true;
    else if (args[i] === '--together') together = true;
    else if (args[i] === '--browser') wrkHeaders = BROWSER;
    else {
      const eq = args[i].indexOf('=');
      variants.push({ name: args[i].slice(0, eq), path: args[i].slice(eq + 1) });
    }
  }
  if (!variants.length) {
    const baseline = '/tmp/dds-core-baseline/dist/index.js';
    if (existsSync(baseline)) variants.push({ name: 'baseline', path: baseline });
    variants.push({ name: 'current', path: join(ROOT, 'packages/core/dist/index.js') });
  }
  const upPort = await freePort();
  const upstream = await startNginx(
    'upstream',
    `server { listen 127.0.0.1:${upPort}; keepalive_requests 10000000; location / { return 200 "ok\\n"; } }`,
    upPort,
  );
  const targets = variants.map((v) => ({
    name: v.name,
    start: async (port) => startProxy(v.path, port, `http://127.0.0.1:${upPort}`),
  }));
  if (withNginx)
    targets.unshift({
      name: 'nginx',
      start: (port) =>
        startNginx(
          'proxy',
          `upstream up { server 127.0.0.1:${upPort}; keepalive 128; }
  server { listen 127.0.0.1:${port}; keepalive_requests 10000000;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; add_header x-dds-shard a; } }`,
          port,
        ),
    });
  const samples = new Map(targets.map((t) => [t.name, []]));
  try {
    if (together) {
      const running = [];
      try {
        for (const t of targets) {
          const port = await freePort();
          running.push({ t, port, h: await t.start(port) });
        }
        await Promise.all(running.map(({ h, port }) => measure(h, port, 1)));
        for (let r = 0; r < rounds; r++) {
          const res = await Promise.all(running.map(({ h, port }) => measure(h, port, seconds, false)));
          res.forEach((s, i) => {
            samples.get(running[i].t.name).push(s);
            console.log(
              `round ${r + 1} ${running[i].t.name.padEnd(12)} ${s.us.toFixed(1).padStart(6)} us/req ${Math.round(s.rps)} req/s`,
            );
          });
        }
      } finally {
        for (const { h } of running) h.stop();
      }
    }
    for (let r = 0; r < (together ? 0 : rounds); r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const port = await freePort();
        const h = await t.start(port);
        try {
          const s = await measure(h, port, seconds);
          samples.get(t.name).push(s);
          console.log(
            `round ${r + 1} ${t.name.padEnd(12)} ${s.us.toFixed(1).padStart(6)} us/req ${Math.round(s.rps)} req/s`,
          );
        } finally {
          h.stop();
        }
      }
    }
  } finally {
    upstream.stop();
  }
  console.log('\nmedians (CPU of the proxy process per request; req/s on a shared machine):');
  const first = median(samples.get(targets.find((t) => t.name !== 'nginx').name).map((s) => s.us));
  for (const t of targets) {
    const s = samples.get(t.name);
    const us = median(s.map((x) => x.us));
    console.log(
      `${t.name.padEnd(12)} ${us.toFixed(1).padStart(6)} us/req  ${String(Math.round(median(s.map((x) => x.rps)))).padStart(6)} req/s  ${(us / first).toFixed(2)}x of ${targets.find((x) => x.name !== 'nginx').name}`,
    );
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3], Number(process.argv[4]), process.argv[5]);
else if (process.argv[2] === '--direct') direct(Number(process.argv[3]));
else await main();
