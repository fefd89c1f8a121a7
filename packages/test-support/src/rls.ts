import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePorts } from './ports.js';
import { type Proc, run, start, waitForPort } from './process.js';
import { tempDir } from './services.js';

/** Where scripts/install-rls-peers.sh puts envoyproxy/ratelimit and dds-rls-client. */
export const PEERS_DIR = process.env.DDS_PEERS_DIR ?? join(homedir(), '.cache/dds/peers');

export function peerBinary(name: 'ratelimit' | 'dds-rls-client'): string {
  const path = join(PEERS_DIR, name);
  if (!existsSync(path))
    throw new Error(`${path} is missing: run bash scripts/install-rls-peers.sh (scripts/test-all.sh does)`);
  return path;
}

/** A RateLimitRequest in protojson (the Go client's input). */
export interface RlsRequestJson {
  domain: string;
  descriptors: Array<{
    entries: Array<{ key: string; value: string }>;
    limit?: { requests_per_unit: number; unit: string };
    hits_addend?: number;
  }>;
  hits_addend?: number;
}

/** A RateLimitResponse in protojson (UseProtoNames, unpopulated fields included). */
export interface RlsResponseJson {
  overall_code: 'UNKNOWN' | 'OK' | 'OVER_LIMIT';
  statuses: Array<{
    code: 'UNKNOWN' | 'OK' | 'OVER_LIMIT';
    current_limit: { name: string; requests_per_unit: number; unit: string } | null;
    limit_remaining: number;
    duration_until_reset: string | null;
  }>;
  response_headers_to_add: Array<{ key: string; value: string }>;
}

export interface RlsClient {
  call(req: RlsRequestJson): Promise<RlsResponseJson>;
  close(): Promise<void>;
}

/**
 * The Go client generated from Envoy's published stubs, kept running: one JSON line per call.
 * Calls are answered in order (one worker), so a sequence of calls is decided in that order.
 */
export function rlsClient(addr: string): RlsClient {
  const proc = start(peerBinary('dds-rls-client'), ['-addr', addr, '-mode', 'stdio'], { stdin: true });
  const waiting = new Map<number, { resolve(r: RlsResponseJson): void; reject(e: Error): void }>();
  let id = 0;
  createInterface({ input: proc.child.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { id: number; response?: RlsResponseJson; error?: string };
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) w?.reject(new Error(m.error));
    else w?.resolve(m.response!);
  });
  return {
    call(req) {
      const me = ++id;
      return new Promise((resolve, reject) => {
        waiting.set(me, { resolve, reject });
        proc.child.stdin!.write(`${JSON.stringify({ id: me, request: req })}\n`);
      });
    },
    async close() {
      proc.child.stdin!.end();
      await proc.exited;
    },
  };
}

export interface LoadSummary {
  calls: number;
  ok: number;
  over_limit: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  descriptor_ok: number[];
}

/** n calls of one request, c at a time (paced to rps when given), by the Go client. */
export async function rlsLoad(
  addr: string,
  req: RlsRequestJson,
  o: { n: number; c: number; rps?: number },
): Promise<LoadSummary> {
  const r = await run(
    peerBinary('dds-rls-client'),
    [
      '-addr',
      addr,
      '-mode',
      'load',
      '-n',
      String(o.n),
      '-c',
      String(o.c),
      '-rps',
      String(o.rps ?? 0),
      '-request',
      JSON.stringify(req),
    ],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(`dds-rls-client load failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as LoadSummary;
}

/** grpc.health.v1 Check through the Go client: SERVING, NOT_SERVING, or "error: ..." */
export async function rlsHealth(addr: string, service = ''): Promise<string> {
  const r = await run(peerBinary('dds-rls-client'), ['-addr', addr, '-mode', 'health', '-service', service]);
  return r.stdout.trim();
}

/**
 * envoyproxy/ratelimit on a Redis, with the given descriptor YAML files (name -> content), gRPC
 * on a free port. Fixed windows, no local cache, no statsd; `env` adds settings.
 */
export async function startEnvoyRatelimit(
  redis: string,
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<{ proc: Proc; grpc: string; stop(): Promise<void> }> {
  const root = tempDir('envoy-ratelimit');
  const config = join(root, 'ratelimit', 'config');
  mkdirSync(config, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(config, name), text);
  const [grpc, http, debug] = await freePorts(3);
  const proc = start(peerBinary('ratelimit'), [], {
    env: {
      USE_STATSD: 'false',
      BACKEND_TYPE: 'redis',
      REDIS_SOCKET_TYPE: 'tcp',
      REDIS_URL: redis,
      RUNTIME_ROOT: root,
      RUNTIME_SUBDIRECTORY: 'ratelimit',
      RUNTIME_WATCH_ROOT: 'false',
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(grpc),
      HOST: '127.0.0.1',
      PORT: String(http),
      DEBUG_HOST: '127.0.0.1',
      DEBUG_PORT: String(debug),
      LOG_LEVEL: 'warn',
      LOCAL_CACHE_SIZE_IN_BYTES: '0',
      ...env,
    },
  });
  await waitForPort(grpc!);
  return {
    proc,
    grpc: `127.0.0.1:${grpc}`,
    async stop() {
      await proc.kill('SIGKILL');
    },
  };
}
