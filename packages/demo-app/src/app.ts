import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { Instance } from '@dds/core/runner';
import { WebSocketServer } from 'ws';
import type { DemoConfig } from './config.js';

/**
 * The "legacy app" the sidecars front: plain HTTP, no TLS, no metrics. Endpoints:
 *   GET /            the configured message
 *   ANY /echo        JSON of method, url, headers and body length (what the proxy forwarded)
 *   GET /slow?ms=N   answers after N ms
 *   GET /status/N    answers with status N
 *   GET /bytes/N     streams N bytes in 64 KiB chunks
 *   POST /sink       reads the body, answers its length and sha-less byte sum
 *   WS  /ws          WebSocket echo
 */
export function createDemoApp(initial: DemoConfig): Instance<DemoConfig> {
  let config = initial;
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
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${config.message}\n`);
    } else if (path === '/echo' || path === '/sink') {
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
    } else if (path.startsWith('/status/')) {
      const code = Number(path.slice(8));
      res
        .writeHead(code >= 200 && code <= 599 ? code : 400, { 'content-type': 'text/plain' })
        .end(`status ${code}\n`);
    } else if (path.startsWith('/bytes/')) {
      streamBytes(res, Math.max(0, Number(path.slice(7)) || 0));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
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
