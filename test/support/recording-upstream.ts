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
