// Load tools used by every benchmark, each returning { rps, p50ms, p99ms } parsed from the
// real tool's output. Tools come from Debian packages (wrk, redis-tools, nghttp2-client).
import { spawn } from 'node:child_process';

export function exec(cmd, args, { timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err || out}`));
      else resolve(out + err);
    });
  });
}

const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? 1);

/** wrk with --latency; url may be https. Extra args e.g. ['-H', 'Cookie: uid=1'] or ['-s', script]. */
export async function wrk({ url, connections = 50, threads = 1, seconds = 5, args = [] }) {
  const out = await exec(
    'wrk',
    [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', ...args, url],
    {
      timeoutMs: (seconds + 30) * 1000,
    },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const lat = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m ? toMs(m[1], m[2]) : Number.NaN;
  };
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps,
    p50ms: lat(50),
    p99ms: lat(99),
    non2xx: errors ? Number(errors[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw: out,
  };
}

/** redis-benchmark --csv for one test (GET, SET, MSET ...); -r spreads keys over shards. */
export async function redisBenchmark({
  port,
  host = '127.0.0.1',
  test = 'get',
  clients = 50,
  pipeline = 1,
  requests = 200_000,
  keyspace = 100_000,
  extra = [],
}) {
  const out = await exec('redis-benchmark', [
    '-h',
    host,
    '-p',
    String(port),
    '-c',
    String(clients),
    '-n',
    String(requests),
    '-P',
    String(pipeline),
    '-r',
    String(keyspace),
    '-t',
    test,
    '--csv',
    ...extra,
  ]);
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('"') && !l.startsWith('"test"'));
  const cols = lines[0]?.split(',').map((c) => c.replace(/"/g, ''));
  if (!cols) throw new Error(`redis-benchmark printed no result: ${out}`);
  return { rps: Number(cols[1]), p50ms: Number(cols[4]), p99ms: Number(cols[6]), raw: out };
}

/** h2load: HTTP/2 (or --h1) load; returns req/s and, when printed, latency percentiles are not: p50/p99 from request times. */
export async function h2load({ url, clients = 50, streams = 10, requests = 50_000, args = [] }) {
  const out = await exec('h2load', [
    '-c',
    String(clients),
    '-m',
    String(streams),
    '-n',
    String(requests),
    ...args,
    url,
  ]);
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1]);
  const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0);
  const mean = /time for request:\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)/.exec(out);
  return { rps, p50ms: mean ? toMs(mean[1], mean[2]) : Number.NaN, p99ms: Number.NaN, failed, raw: out };
}

/**
 * ghz (gRPC load) against host:port over TLS, one unary method of a .proto; `duration` in seconds.
 * Returns req/s and p50/p99 in ms; throws when any call did not end OK.
 */
export async function ghz({
  bin,
  target,
  proto,
  call,
  data,
  ca,
  cname = 'localhost',
  concurrency = 50,
  connections = 5,
  seconds = 5,
  insecure = false,
}) {
  const out = await exec(
    bin,
    [
      ...(insecure ? ['--insecure'] : ['--cacert', ca, '--cname', cname]),
      '--proto',
      proto,
      '--call',
      call,
      '-d',
      JSON.stringify(data),
      '-z',
      `${seconds}s`,
      // calls in flight when the time is up finish and count (the default cancels them)
      '--duration-stop',
      'wait',
      '-c',
      String(concurrency),
      '--connections',
      String(connections),
      '-O',
      'json',
      target,
    ],
    { timeoutMs: (seconds + 60) * 1000 },
  );
  const r = JSON.parse(out.slice(out.indexOf('{')));
  const codes = r.statusCodeDistribution ?? {};
  const failed = Object.entries(codes).filter(([k]) => k !== 'OK');
  if (failed.length)
    throw new Error(
      `ghz ${target}: calls that did not end OK: ${JSON.stringify(codes)} ${JSON.stringify(r.errorDistribution)}`,
    );
  const pct = (p) => (r.latencyDistribution ?? []).find((x) => x.percentage === p)?.latency / 1e6;
  return { rps: r.rps, p50ms: pct(50), p99ms: pct(99), raw: out };
}

/**
 * One bulk transfer through a TLS port with socat: `bytes` from the client, discarded upstream.
 * Returns MB/s (in `rps`, for the runner) from the client's wall time.
 */
export async function tlsBulk({ port, bytes = 256 * 1024 * 1024 }) {
  const t0 = performance.now();
  await exec(
    'socat',
    ['-u', '-b', '65536', `EXEC:head -c ${bytes} /dev/zero`, `OPENSSL:127.0.0.1:${port},verify=0,shut-down`],
    { timeoutMs: 300_000 },
  );
  const s = (performance.now() - t0) / 1000;
  return { rps: bytes / 1048576 / s, p50ms: Number.NaN, p99ms: Number.NaN };
}
