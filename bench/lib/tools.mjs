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
