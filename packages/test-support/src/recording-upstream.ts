import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP upstream for the integration tests that records what reached it. */
export interface RecordingUpstream {
  url: string;
  port: number;
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startUpstream(): Promise<RecordingUpstream> {
  const seen: RecordingUpstream['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (req.url?.startsWith('/slow')) {
      setTimeout(() => res.end('slow\n'), 2000);
      return;
    }
    req.resume();
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes' }).end('ok\n'),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Offers `perSecond` requests per second for `seconds`, paced by the wall clock; spanMs runs to the last answer. */
export async function offerLoad(
  url: string,
  perSecond: number,
  seconds: number,
  init?: RequestInit,
): Promise<{ statuses: number[]; spanMs: number }> {
  const total = Math.round(perSecond * seconds);
  const start = performance.now();
  const pending: Promise<number>[] = [];
  let last = start; // the last answer: every decision happened between start and it
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      fetch(url, init).then(
        async (r) => {
          await r.arrayBuffer();
          last = performance.now();
          return r.status;
        },
        () => -1,
      ),
    );
  }
  const statuses = await Promise.all(pending);
  return { statuses, spanMs: last - start };
}

/** One request as a strict upstream parsed it: head fields as sent, and the whole body. */
export interface SeenRequest {
  method: string;
  url: string;
  httpVersion: string;
  /** flat [name, value, ...] in the order and case received */
  rawHeaders: string[];
  body: Buffer;
  /** the body arrived complete (false: the connection ended inside it) */
  complete: boolean;
}

/** A strict recording upstream (Node's llhttp, no lenient flags) that logs every request it parses. */
export interface StrictUpstream {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** resolves once a request for `url` has been seen (e.g. a barrier after a probe) */
  waitFor(url: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A strict upstream for adversarial tests. Every request is logged when its head is parsed, so a
 * smuggled request shows up even if its body never completes. It answers 200 with a length to
 * everything, Upgrade requests included, as most apps do (no 'upgrade' listener: node:http then
 * serves them as ordinary requests and keeps parsing the connection as HTTP), unless
 * `acceptWebSocket` is set, in which case every upgrade gets a 101 for websocket (whatever it
 * asked for) and an echo. Paths under
 * /hold never read their body (back-pressure probes).
 */
export async function startStrictUpstream(opts: { acceptWebSocket?: boolean } = {}): Promise<StrictUpstream> {
  const seen: SeenRequest[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer(
    { requireHostHeader: false, joinDuplicateHeaders: false },
    (req, res) => {
      const entry: SeenRequest = {
        method: req.method!,
        url: req.url!,
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        body: Buffer.alloc(0),
        complete: false,
      };
      seen.push(entry);
      for (const w of waiters) w();
      if (req.url?.startsWith('/hold')) return;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        entry.body = Buffer.concat(chunks);
        entry.complete = true;
        const text = `seen ${req.method} ${req.url} ${entry.body.length}\n`;
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(text.length) }).end(text);
      });
    },
  );
  if (opts.acceptWebSocket)
    server.on('upgrade', (req, socket) => {
      seen.push({
        method: req.method!,
        url: req.url!,
        httpVersion: req.httpVersion,
        rawHeaders: req.rawHeaders,
        body: Buffer.alloc(0),
        complete: true,
      });
      for (const w of waiters) w();
      // any upgrade gets a 101 for websocket: a proxy must splice only if that is what was asked
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
      socket.pipe(socket);
    });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    waitFor(url, timeoutMs = 10_000) {
      if (seen.some((s) => s.url === url)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!seen.some((s) => s.url === url)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the upstream never saw ${url}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
