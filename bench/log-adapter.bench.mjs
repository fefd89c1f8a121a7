// log-adapter beside the OpenTelemetry Collector's own filelog receiver (contrib
// receiver/filelogreceiver, in the collector scripts/install-otelcol.sh builds): both follow the
// same files, written at a steady rate and rotated by rename, parse nginx, JSON or CRI lines, and
// send OTLP/HTTP to the same sink collector. Per run and target: CPU-seconds per million lines
// (from /proc), peak RSS, and end-to-end lag (lines written but not yet accepted by the sink, in
// seconds of writing, sampled every 100 ms; and the catch-up time after the writer stops).
//
// BENCH_LINES (default 300000) lines per run at BENCH_RATE lines/s (default 30000), rotated every
// BENCH_ROTATE lines (default 100000); BENCH_ROUNDS alternating rounds (default 5).
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitPort } from './lib/processes.mjs';
import { median, ROOT, runBenchmark } from './lib/runner.mjs';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const RATE = Number(process.env.BENCH_RATE ?? 30_000);
const ROTATE = Number(process.env.BENCH_ROTATE ?? 100_000);
const OTELCOL = process.env.OTELCOL_BIN ?? join(ROOT, '.cache/otelcol/otelcol-dds');
const BIN = join(ROOT, 'packages/log-adapter/dist/main.js');
const BASE = join(tmpdir(), 'dds-bench-log-adapter');
rmSync(BASE, { recursive: true, force: true });
mkdirSync(BASE, { recursive: true });

// --- lines: varied (addresses, paths, sizes), stamps advancing every 1000 lines ---
const pad = (n, w = 2) => String(n).padStart(w, '0');
const agents = [
  'curl/8.5.0',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'kube-probe/1.31',
];
const stamp = (i) => {
  const s = Math.floor(i / 1000);
  return { h: pad(10 + (Math.floor(s / 3600) % 10)), m: pad(Math.floor(s / 60) % 60), s: pad(s % 60) };
};
const gen = {
  nginx: (i) => {
    const t = stamp(i);
    return `192.0.2.${i % 250} - - [28/Nov/2026:${t.h}:${t.m}:${t.s} +0000] "GET /api/v1/items/${i}?page=${i % 7} HTTP/1.1" ${i % 50 === 0 ? 404 : 200} ${i % 9000} "https://shop.example.com/" "${agents[i % 3]}"`;
  },
  json: (i) =>
    `{"level":"${i % 10 === 0 ? 'warn' : 'info'}","time":"2026-11-28T${stamp(i).h}:${stamp(i).m}:${stamp(i).s}.${pad(i % 1000, 3)}Z","pid":1,"hostname":"web-1","msg":"request completed ${i}","reqId":"r-${i}","responseTime":${(i % 100) / 10}}`,
  cri: (i) => {
    const t = stamp(i);
    return `2026-11-28T${t.h}:${t.m}:${t.s}.${pad(i % 1_000_000, 9)}Z ${i % 5 === 0 ? 'stderr' : 'stdout'} F worker ${i % 8} processed job ${i} in ${i % 300}ms`;
  },
};

// the peer parses what ours parses: a regex with the time for nginx, JSON with time and
// severity, the container operator for CRI
const peerOperators = {
  nginx: `
      - type: regex_parser
        regex: '^(?P<client>\\S+) \\S+ (?P<user>\\S+) \\[(?P<time>[^\\]]+)\\] "(?P<method>\\S+) (?P<path>[^ ]*) (?P<proto>[^"]*)" (?P<status>\\d+) (?P<size>\\d+) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"'
        timestamp: { parse_from: attributes.time, layout_type: strptime, layout: '%d/%b/%Y:%H:%M:%S %z' }`,
  json: `
      - type: json_parser
        timestamp: { parse_from: attributes.time, layout_type: gotime, layout: '2006-01-02T15:04:05.000Z07:00' }
        severity: { parse_from: attributes.level }`,
  cri: `
      - type: container
        format: containerd
        add_metadata_from_filepath: false`,
};

// --- the sink: one collector both send to; arrivals counted from its own metrics ---
const sinkPort = await freePort();
const sinkMetrics = await freePort();
const sinkConfig = join(BASE, 'sink.yaml');
writeFileSync(
  sinkConfig,
  `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${sinkPort}
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    logs: { level: warn }
    metrics:
      readers:
        - pull: { exporter: { prometheus: { host: 127.0.0.1, port: ${sinkMetrics} } } }
  pipelines:
    logs: { receivers: [otlp], exporters: [debug] }
`,
);

async function accepted() {
  let text;
  for (let tries = 0; ; tries++) {
    try {
      text = await (await fetch(`http://127.0.0.1:${sinkMetrics}/metrics`)).text();
      break;
    } catch (err) {
      if (tries > 5) throw err; // a closed keep-alive connection: ask again
    }
  }
  let n = 0;
  for (const l of text.split('\n'))
    if (l.startsWith('otelcol_receiver_accepted_log_records') && l.includes('receiver="otlp"'))
      n += Number(l.slice(l.lastIndexOf(' ') + 1));
  return n;
}

const TICK = Number(readFileSync('/proc/self/stat', 'utf8') && 100); // USER_HZ on Linux
function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(f[11]) + Number(f[12])) / TICK;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { cpu, rss };
}

async function startPeer(dir, format) {
  const config = join(dir, 'peer.yaml');
  const metricsPort = await freePort();
  writeFileSync(
    config,
    `receivers:
  filelog:
    include: [${dir}/app.log*]
    start_at: beginning
    poll_interval: 200ms
    include_file_path: true
    operators:${peerOperators[format]}
processors:
  batch: {}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:${sinkPort}
service:
  telemetry:
    logs: { level: warn }
    metrics:
      readers:
        - pull: { exporter: { prometheus: { host: 127.0.0.1, port: ${metricsPort} } } }
  pipelines:
    logs: { receivers: [filelog], processors: [batch], exporters: [otlphttp] }
`,
  );
  return spawn(OTELCOL, ['--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
}

// What the charts set for a container limited to 128Mi (dds-lib _v8.tpl: old space half the limit,
// semi-space 1 MB): peak RSS with V8's defaults says more about V8's heap growth than about the adapter
const CHART_128MI = ['--max-old-space-size=64', '--max-semi-space-size=1'];

const SIZED = `dds-log-adapter ${CHART_128MI.join(' ')} (the charts, 128Mi limit)`;

// What the image sets (images/log-adapter/Dockerfile ENV NODE_OPTIONS) and the chart at its 256Mi default
const IMAGE_V8 = ['--max-semi-space-size=16'];
const IMAGE = `dds-log-adapter ${IMAGE_V8.join(' ')} (the image)`;

function startOurs(dir, v8 = []) {
  return spawn(
    process.execPath,
    [
      ...v8,
      BIN,
      '--input',
      `${dir}/app.log*`,
      '--output',
      `otlp-http://127.0.0.1:${sinkPort}`,
      '--poll-interval',
      '200ms',
      '--flush-interval',
      '200ms',
      '--rotate-wait',
      '2s',
      '--admin',
      'off',
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

const samples = {};

/** One run: a fresh directory, the target following it, the writer at RATE, rotation by rename. */
async function runOnce(target, format) {
  const dir = join(BASE, `${target}-${format}-${Date.now()}`);
  mkdirSync(dir);
  const app = join(dir, 'app.log');
  writeFileSync(app, '');
  const base = await accepted();
  const child =
    target === 'ours'
      ? startOurs(dir)
      : target === 'ours-sized'
        ? startOurs(dir, CHART_128MI)
        : target === 'ours-image'
          ? startOurs(dir, IMAGE_V8)
          : await startPeer(dir, format);
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await new Promise((r) => setTimeout(r, 1000)); // both find the (empty) file before lines come
    const u0 = usage(child.pid);
    let written = 0;
    let rotations = 0;
    let peakRss = u0.rss;
    const lags = [];
    const t0 = performance.now();
    const line = gen[format];
    while (written < LINES) {
      const due = Math.min(LINES, Math.floor(((performance.now() - t0) / 1000) * RATE));
      if (due > written) {
        let chunk = '';
        for (let i = written; i < due; i++) chunk += `${line(i)}\n`;
        const before = Math.floor(written / ROTATE);
        appendFileSync(app, chunk);
        written = due;
        if (Math.floor(written / ROTATE) > before && written < LINES) {
          renameSync(app, join(dir, `app.log.${++rotations}`));
          writeFileSync(app, '');
        }
      }
      await new Promise((r) => setTimeout(r, 100));
      lags.push((written - ((await accepted()) - base)) / RATE);
      peakRss = Math.max(peakRss, usage(child.pid).rss);
    }
    const wroteAll = performance.now();
    const deadline = Date.now() + 120_000;
    while ((await accepted()) - base < LINES) {
      if (Date.now() > deadline)
        throw new Error(`${target} delivered ${(await accepted()) - base} of ${LINES}`);
      peakRss = Math.max(peakRss, usage(child.pid).rss);
      await new Promise((r) => setTimeout(r, 20));
    }
    const catchUp = performance.now() - wroteAll;
    const u1 = usage(child.pid);
    const cpu = u1.cpu - u0.cpu;
    lags.sort((a, b) => a - b);
    const r = {
      rps: LINES / cpu,
      p50ms: lags[Math.floor(lags.length / 2)] * 1000,
      p99ms: lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))] * 1000,
      cpuPerMillion: (cpu / LINES) * 1e6,
      rssMB: peakRss / 1048576,
      catchUpMs: catchUp,
    };
    samples[format] ??= {};
    samples[format][target] ??= [];
    samples[format][target].push(r);
    return r;
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const names = { nginx: 'nginx combined', json: 'JSON lines', cri: 'CRI (containerd)' };
const spec = {
  component: 'log-adapter',
  title: 'log-adapter beside the OpenTelemetry Collector filelog receiver (rotated files -> OTLP)',
  targets: [
    {
      name: 'otelcol filelog receiver',
      role: 'peer',
      start: async () => {
        const sink = spawn(OTELCOL, ['--config', sinkConfig], { stdio: ['ignore', 'ignore', 'inherit'] });
        await waitPort(sinkPort);
        await waitPort(sinkMetrics);
        return { name: 'peer', stop: async () => sink.kill('SIGTERM') };
      },
    },
    {
      name: 'dds-log-adapter (V8 defaults)',
      role: 'ours',
      start: async () => ({ name: 'ours', stop: async () => {} }),
    },
    { name: IMAGE, role: 'ours', start: async () => ({ name: 'ours-image', stop: async () => {} }) },
    {
      name: SIZED,
      role: 'ours',
      start: async () => ({ name: 'ours-sized', stop: async () => {} }),
    },
  ],
  scenarios: Object.keys(gen).map((format) => ({
    name: `${names[format]}: lines per CPU-second`,
    run: (handle) => runOnce(handle.name, format),
  })),
  get notes() {
    const rows = Object.entries(samples).flatMap(([format, s]) =>
      ['peer', 'ours', 'ours-image', 'ours-sized'].map((t) => {
        const runs = (s[t] ?? []).slice(1); // the runner's warm-up run is not counted
        const m = (k) => median(runs.map((r) => r[k]));
        const label = {
          peer: 'otelcol filelog (peer)',
          ours: 'dds-log-adapter (V8 defaults)',
          'ours-image': IMAGE,
          'ours-sized': SIZED,
        }[t];
        return `| ${names[format]} | ${label} | ${m('cpuPerMillion').toFixed(2)} | ${m('rssMB').toFixed(1)} | ${m('p50ms').toFixed(0)} | ${m('p99ms').toFixed(0)} | ${m('catchUpMs').toFixed(0)} |`;
      }),
    );
    return [
      `${LINES} lines per run written at ${RATE} lines/s into app.log, rotated by rename every ${ROTATE} lines; both`,
      'follow `app.log*` from the start and send OTLP/HTTP (protobuf, gzip) to the same sink collector (debug exporter,',
      'basic), whose `otelcol_receiver_accepted_log_records` counts arrivals. "req/s" above is lines per CPU-second;',
      '"p50/p99 ms" there are the end-to-end lag: lines written but not yet at the sink, in milliseconds of writing,',
      'sampled every 100 ms. The peer parses like ours: regex_parser + strptime time for nginx, json_parser with time',
      'and severity, the container operator (format containerd: CRI lines); batch processor (200 ms) vs ours `--flush-interval 200ms`, both',
      'polling every 200 ms. CPU from /proc (all threads), RSS peak of VmRSS.',
      '',
      '| input | target | CPU-s per million lines | peak RSS MB | lag p50 ms | lag p99 ms | catch-up after the last write ms |',
      '|---|---|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
  },
};

await runBenchmark(spec);
