// Envoy's rate-limit service: dds-rate-limiter --rls-config beside envoyproxy/ratelimit (the peer,
// built from the Go module proxy by scripts/install-rls-peers.sh), both on one redis-server with
// the same descriptor config, fixed windows. Load: ShouldRateLimit calls from a gRPC client
// generated from Envoy's published stubs (packages/test-support/peers/rls-client), 50 in flight, one descriptor
// whose limit is far above the load (every call counts in Redis, none is refused).
// BENCH_CALLS sets calls per round (default 50 000).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, proc, waitPort } from './lib/processes.mjs';
import { entry, runBenchmark } from './lib/runner.mjs';
import { exec } from './lib/tools.mjs';

const peers = process.env.DDS_PEERS_DIR ?? join(homedir(), '.cache/dds/peers');
const ratelimit = join(peers, 'ratelimit');
const client = join(peers, 'dds-rls-client');
if (!existsSync(ratelimit) || !existsSync(client)) {
  console.error(`missing ${ratelimit} or ${client}: run bash scripts/install-rls-peers.sh`);
  process.exit(2);
}
const CALLS = Number(process.env.BENCH_CALLS ?? 50_000);
const CONFIG = `domain: bench
descriptors:
  - key: remote_address
    rate_limit: { unit: second, requests_per_unit: 1000000000 }
  - key: api_key
    rate_limit: { unit: minute, requests_per_unit: 1000000000 }
    descriptors:
      - key: path
        rate_limit: { unit: hour, requests_per_unit: 1000000000 }
`;
const dir = mkdtempSync(join(tmpdir(), 'dds-bench-rls-'));
mkdirSync(join(dir, 'ratelimit', 'config'), { recursive: true });
writeFileSync(join(dir, 'ratelimit', 'config', 'config.yaml'), CONFIG);
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

async function envoyRatelimit() {
  const [grpc, http, debug] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    USE_STATSD: 'false',
    BACKEND_TYPE: 'redis',
    REDIS_SOCKET_TYPE: 'tcp',
    REDIS_URL: `127.0.0.1:${redisPort}`,
    RUNTIME_ROOT: dir,
    RUNTIME_SUBDIRECTORY: 'ratelimit',
    RUNTIME_WATCH_ROOT: 'false',
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpc),
    HOST: '127.0.0.1',
    PORT: String(http),
    DEBUG_HOST: '127.0.0.1',
    DEBUG_PORT: String(debug),
    LOG_LEVEL: 'warn',
    CACHE_KEY_PREFIX: 'peer:',
    // one core per process, as dds runs one event loop
    GOMAXPROCS: process.env.BENCH_GOMAXPROCS ?? '1',
  };
  const { spawn } = await import('node:child_process');
  // its stats go to a debug logging sink on stderr whatever LOG_LEVEL says: not shown
  const child = spawn(ratelimit, [], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise((r) => child.once('exit', r));
  await waitPort(grpc);
  return {
    addr: `127.0.0.1:${grpc}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function dds(args) {
  return async () => {
    const port = await freePort();
    const p = proc(process.execPath, [
      entry('rate-limiter'),
      '--rls-config',
      join(dir, 'ratelimit', 'config'),
      '--rls-listen',
      `127.0.0.1:${port}`,
      '--admin',
      'off',
      '--log-level',
      'warn',
      ...args,
    ]);
    await waitPort(port);
    return { addr: `127.0.0.1:${port}`, stop: () => p.stop() };
  };
}

const load = (request) => async (h) => {
  const out = await exec(
    client,
    ['-addr', h.addr, '-mode', 'load', '-n', String(CALLS), '-c', '50', '-request', JSON.stringify(request)],
    {
      timeoutMs: 600_000,
    },
  );
  const r = JSON.parse(out);
  if (r.errors > 0 || r.over_limit > 0)
    throw new Error(`${h.addr}: ${r.errors} errors, ${r.over_limit} refused`);
  return { rps: r.rps, p50ms: r.p50_ms, p99ms: r.p99_ms };
};

const redisUrl = `redis://127.0.0.1:${redisPort}`;
try {
  await runBenchmark({
    component: 'rls',
    title: "Envoy's rate-limit service (RLS) vs envoyproxy/ratelimit",
    notes: [
      `ShouldRateLimit calls from a gRPC client generated from Envoy's stubs (Go, 50 in flight, ${CALLS} calls per round), one redis-server, the same descriptor YAML; limits far above the load, so every call counts in Redis.`,
      'envoyproxy/ratelimit (peer) runs with GOMAXPROCS=1 (one core, as dds has one event loop); fixed windows, no local cache, no statsd.',
      'dds, fixed window: the same Redis commands (INCRBY + EXPIRE per descriptor, auto-pipelined). dds, GCRA: one EVALSHA per event-loop turn. dds, local: no Redis.',
      'Identical decisions in fixed-window mode are checked by packages/rate-limiter/src/rls.integration.test.ts, not here.',
    ].join('\n'),
    targets: [
      { name: 'envoyproxy/ratelimit', role: 'peer', start: envoyRatelimit },
      {
        name: 'dds, Redis, fixed window',
        role: 'ours',
        start: dds(['--redis', redisUrl, '--rls-redis-prefix', 'dds:']),
      },
      {
        name: 'dds, Redis, GCRA',
        role: 'ours',
        start: dds(['--redis', redisUrl, '--rls-algorithm', 'gcra']),
      },
      { name: 'dds, local, fixed window', role: 'baseline', start: dds([]) },
    ],
    scenarios: [
      {
        name: 'one descriptor',
        run: load({
          domain: 'bench',
          descriptors: [{ entries: [{ key: 'remote_address', value: '10.1.2.3' }] }],
        }),
      },
      {
        name: 'three descriptors, nested',
        run: load({
          domain: 'bench',
          descriptors: [
            { entries: [{ key: 'remote_address', value: '10.1.2.3' }] },
            { entries: [{ key: 'api_key', value: 'k' }] },
            {
              entries: [
                { key: 'api_key', value: 'k' },
                { key: 'path', value: '/upload' },
              ],
            },
          ],
        }),
      },
    ],
  });
} finally {
  await redis.stop();
}
