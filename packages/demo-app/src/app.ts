import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { Instance } from '@dds/core/runner';
import { WebSocketServer } from 'ws';
import type { DemoConfig } from './config.js';

/**
 * The "legacy app" the sidecars front: plain HTTP, no TLS, no metrics. Endpoints:
 *   GET /            the configured message (so does any path not listed here: a legacy app
 *                    behind the examples' /checkout, /api, ... routes)
 *   ANY /echo        JSON of method, url, headers and body length (what the proxy forwarded)
 *   GET /slow?ms=N   answers after N ms
 *   GET /status      a health endpoint: JSON {"status":"ok","db":"ok"} (what health checks probe)
 *   GET /status/N    answers with status N
 *   GET /stats       JSON counters, for the metrics adapter's JSON source: requests served by
 *                    path, uptime, a per-queue object ({"queues":{"emails":{"size":N}, ...}})
 *   GET /bytes/N     streams N bytes in 64 KiB chunks
 *   POST /sink       reads the body, answers its length and sha-less byte sum
 *   WS  /ws          WebSocket echo
 */
export function createDemoApp(initial: DemoConfig): Instance<DemoConfig> {
  let config = initial;
  const started = Date.now();
  const served = new Map<string, number>();
  const server = createServer((req, res) => {
    if (config.delay > 0) setTimeout(() => handle(req, res), config.delay);
    else handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  const tracker = new ConnectionTracker(server);
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/ws') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) =>
      ws.on('message', (data, binary) => ws.send(data, { binary })),
    );
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('x-served-by', config.name);
    if (config.failRate > 0 && Math.random() < config.failRate) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('injected failure\n');
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // at most 100 distinct paths are counted by name: a client cannot grow the map without bound
    const counted = served.has(path) || served.size < 100 ? path : 'other';
    served.set(counted, (served.get(counted) ?? 0) + 1);
    if (path === '/echo' || path === '/sink') {
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => {
        const body = JSON.stringify({
          name: config.name,
          pid: process.pid,
          method: req.method,
          url,
          headers: req.headers,
          bodyBytes: bytes,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      });
    } else if (path === '/slow') {
      const ms = Number(new URLSearchParams(url.slice(q + 1)).get('ms') ?? 1000);
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`slept ${ms}ms\n`), ms);
    } else if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","db":"ok"}\n');
    } else if (path === '/stats') {
      const requests = [...served.values()].reduce((a, b) => a + b, 0);
      const body = {
        requests,
        uptime_seconds: (Date.now() - started) / 1000,
        paths: Object.fromEntries(served),
        queues: { emails: { size: served.get('/echo') ?? 0 }, sms: { size: served.get('/sink') ?? 0 } },
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    } else if (path.startsWith('/status/')) {
      const code = Number(path.slice(8));
      res
        .writeHead(code >= 200 && code <= 599 ? code : 400, { 'content-type': 'text/plain' })
        .end(`status ${code}\n`);
    } else if (path.startsWith('/bytes/')) {
      streamBytes(res, Math.max(0, Number(path.slice(7)) || 0));
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${config.message}\n`);
    }
  }

  const address = parseAddress(config.listen) as Address;
  return {
    start: () => listen(server, address),
    reload(next) {
      if (next.listen !== config.listen) throw new Error('listen cannot change on reload');
      config = next;
    },
    async drain(deadline) {
      await tracker.drain(deadline);
      wss.close();
    },
  };
}

function streamBytes(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(65536, 0x61);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}
