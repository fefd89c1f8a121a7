import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  freePorts,
  type Proc,
  type Service,
  selfSignedCert,
  startComponent,
  startNginx,
  waitForPort,
} from '../index.js';

/** One HTTP proxy under test (a dds component or the nginx reference) in front of an upstream. */
export interface Target {
  name: string;
  port: number;
  tls: boolean;
  /** the nginx reference, not one of ours */
  reference: boolean;
  /** the process (for its RSS) */
  pid?: number;
  /** its admin port (dds components) */
  admin?: number;
  stop(): Promise<void>;
}

export const CERT = selfSignedCert();

/** The shared proxy flags every dds target starts with (small limits keep the probes quick). */
export const PROXY_FLAGS = ['--header-timeout', '2s', '--min-body-rate', '256'];

async function component(
  name: string,
  pkg: string,
  args: (port: number, admin: number) => string[],
  tls = false,
  proxyFlags = PROXY_FLAGS,
  env: Record<string, string> = {},
): Promise<Target> {
  const [port, admin] = (await freePorts(2)) as [number, number];
  const proc: Proc = startComponent(pkg, [...args(port, admin), ...proxyFlags, '--log-level', 'warn'], {
    env,
  });
  try {
    await waitForPort(port);
  } catch (e) {
    await proc.kill('SIGKILL');
    throw new Error(`${name}: ${(e as Error).message}\n${proc.stdout()}\n${proc.stderr()}`);
  }
  return {
    name,
    port,
    tls,
    reference: false,
    pid: proc.child.pid,
    admin,
    stop: async () => {
      await proc.kill('SIGKILL');
    },
  };
}

export const startTlsSidecar = (upstream: string, extra: string[] = []) =>
  component(
    'tls-sidecar',
    'tls-sidecar',
    (p, a) => [
      '--listen',
      `127.0.0.1:${p}`,
      '--admin',
      `127.0.0.1:${a}`,
      '--upstream',
      upstream,
      '--cert',
      CERT.cert,
      '--key',
      CERT.key,
      '--redirect-listen',
      'off',
      ...extra,
    ],
    true,
  );

/** The splitter; `env` for its process (DDS_FAST_PATHS_OFF=llhttp: the node:http fallbacks, named so). */
export const startSplitter = (upstream: string, extra: string[] = [], env: Record<string, string> = {}) =>
  component(
    env.DDS_FAST_PATHS_OFF ? `experiment-splitter (${env.DDS_FAST_PATHS_OFF} off)` : 'experiment-splitter',
    'experiment-splitter',
    (p, a) => [
      '--listen',
      `127.0.0.1:${p}`,
      '--admin',
      `127.0.0.1:${a}`,
      '--control',
      upstream,
      '--experiment',
      upstream,
      '--percent',
      '50',
      ...extra,
    ],
    false,
    PROXY_FLAGS,
    env,
  );

/** The rate limiter with a limit no probe reaches, unless `extra` sets its own --rate. */
export const startRateLimiter = (upstream: string, extra: string[] = []) =>
  component('rate-limiter', 'rate-limiter', (p, a) => [
    '--listen',
    `127.0.0.1:${p}`,
    '--admin',
    `127.0.0.1:${a}`,
    '--upstream',
    upstream,
    ...(extra.includes('--rate') ? [] : ['--rate', '100000/s', '--burst', '100000']),
    ...extra,
  ]);

// shard-ambassador's HTTP mode has no shared proxy flags (its limits are fixed: see its README)
export const startShardHttp = (upstreamPort: number) =>
  component(
    'shard-ambassador (http)',
    'shard-ambassador',
    (p, a) => [
      '--http-servers',
      `127.0.0.1:${upstreamPort}:1 app`,
      '--http-listen',
      `127.0.0.1:${p}`,
      '-s',
      '0',
      '--admin',
      `127.0.0.1:${a}`,
    ],
    false,
    [],
  );

/**
 * nginx as the reference, configured the way an operator fronts an app: the client address
 * overwrites X-Forwarded-For, Host is passed on, keep-alive upstream connections.
 */
export async function startNginxReference(upstreamPort: number): Promise<Target> {
  const svc: Service = await startNginx(`
    upstream app { server 127.0.0.1:${upstreamPort}; keepalive 16; }
    server {
      listen 127.0.0.1:PORT;
      server_name localhost;
      location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;
      }
    }`);
  return { name: 'nginx', port: svc.port, tls: false, reference: true, stop: () => svc.stop() };
}

/** A raw connection to a target (TLS with ALPN http/1.1 for the TLS sidecar). */
export function rawConnect(t: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s: Socket = t.tls
      ? tlsConnect({
          host: '127.0.0.1',
          port: t.port,
          servername: 'localhost',
          ca: CERT.pem,
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect(t.port, '127.0.0.1');
    s.once(t.tls ? 'secureConnect' : 'connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Status codes of the complete final HTTP/1.x responses in `out` (bodies skipped by their framing). */
export function responses(out: string): number[] {
  const codes: number[] = [];
  let i = 0;
  while (i < out.length) {
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(out.slice(i));
    if (m === null) break;
    const end = out.indexOf('\r\n\r\n', i);
    if (end < 0) break;
    const head = out.slice(i, end);
    const status = Number(m[1]);
    let next = end + 4;
    const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      // walk the chunks
      for (;;) {
        const lineEnd = out.indexOf('\r\n', next);
        if (lineEnd < 0) return codes;
        const size = Number.parseInt(out.slice(next, lineEnd), 16);
        next = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
    } else if (len) next += Number(len[1]);
    else if (status >= 200 && status !== 204 && status !== 304 && status !== 101) next = out.length;
    if (next > out.length) break;
    if (status >= 200 || status === 101) codes.push(status); // 100 Continue is interim
    i = next;
  }
  return codes;
}

/**
 * Writes `bytes` on a fresh connection and reads until the server closes it, or until
 * `expected` complete responses arrived (keep-alive), or `timeoutMs` (a probe that hangs).
 */
export async function probe(
  t: Target,
  bytes: string | Buffer,
  expected: number,
  timeoutMs = 5000,
): Promise<{ out: string; statuses: number[]; closed: boolean }> {
  const s = await rawConnect(t);
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ out, statuses: responses(out), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (responses(out).length >= expected && expected > 0) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.write(bytes);
  });
}
