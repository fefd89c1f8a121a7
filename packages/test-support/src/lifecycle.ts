// Clients and upstreams for the lifecycle tests (test/lifecycle): a client that keeps one
// connection and proves it did, an upstream that holds requests until told, and who (which
// process) holds a TCP connection.
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { run } from './process.js';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  socket: Socket;
}

/**
 * One kept-alive connection for every request (an agent with a single socket): `sockets` holds
 * each socket a request went out on, and `closed` whether the server closed one.
 */
export interface OneConnection {
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  readonly sockets: Set<Socket>;
  readonly closed: () => boolean;
  close(): void;
}

export function oneConnection(base: string, tls?: { ca: string; servername?: string }): OneConnection {
  const https = base.startsWith('https:');
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: tls?.ca, servername: tls?.servername })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<Socket>();
  let closed = false;
  return {
    sockets,
    closed: () => closed,
    get(path, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = (https ? httpsRequest : httpRequest)(`${base}${path}`, { agent, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, headers: res.headers, body, socket: req.socket! }),
          );
        });
        req.on('socket', (s: Socket) => {
          if (!sockets.has(s)) s.once('close', () => (closed = true));
          sockets.add(s);
        });
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

/** The certificate a TLS socket was given, as its SHA-256 fingerprint. */
export const peerFingerprint = (s: Socket): string => (s as TLSSocket).getPeerCertificate().fingerprint256;

/**
 * An upstream that answers at once, except requests to /hold, which wait until `release()`;
 * `arrived(n)` resolves once n held requests have reached it. Records each request's peer port.
 */
export interface HoldingUpstream {
  url: string;
  port: number;
  peers: number[];
  arrived(n: number): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

export async function holdingUpstream(): Promise<HoldingUpstream> {
  const held: ServerResponse[] = [];
  const peers: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let released = false;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    peers.push(req.socket.remotePort!);
    req.resume();
    if (req.url?.startsWith('/hold') && !released) {
      held.push(res);
      for (const w of waiters.filter((w) => held.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`answered ${req.url}\n`);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    peers,
    arrived: (n) =>
      held.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    release() {
      released = true;
      for (const res of held.splice(0))
        res.writeHead(200, { 'content-type': 'text/plain' }).end('released after the hold\n');
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The pids of the processes holding an established TCP connection to 127.0.0.1:port. */
export async function pidsConnectedTo(port: number): Promise<Set<number>> {
  const r = await run('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`]);
  return new Set([...r.stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
}

/**
 * The pid of the process that owns the local end `port` of an established TCP connection on
 * 127.0.0.1 (`ss -tnp`, which needs root for other users' processes): which worker of a
 * `--workers` pool opened the connection an upstream saw.
 */
export async function pidOfLocalPort(port: number): Promise<number | undefined> {
  const r = await run('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`]);
  return Number(/pid=(\d+)/.exec(r.stdout)?.[1]) || undefined;
}

/**
 * Resolves once the demo app at `appUrl` has received a request for `path`: its /stats counts
 * requests as they arrive (asked on fresh connections, so every --workers process is asked).
 */
export async function arrivedAt(appUrl: string, path: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const stats = await new Promise<{ paths: Record<string, number> }>((resolve, reject) => {
      httpRequest(`${appUrl}/stats`, { agent: false }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(JSON.parse(b)));
      })
        .on('error', reject)
        .end();
    });
    if ((stats.paths[path] ?? 0) > 0) return;
    if (Date.now() > end) throw new Error(`${path} never reached ${appUrl}`);
    await new Promise((r) => setImmediate(r));
  }
}
