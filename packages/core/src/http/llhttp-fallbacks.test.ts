import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readUntilClosed } from '@dds/test-support/raw-exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetFastPaths } from '../internals/fast-paths.js';
import { parserBinding } from '../internals/http-parser.js';
import type { ProxyRequest } from './proxy-contract.js';
import { type ProxyHooks, proxyRequest } from './reverse-proxy.js';
import { createHttp1Server, type HttpFront } from './server/http1-server.js';
import { NodeHttp1Server } from './server/node-http1-server.js';
import { TrustedProxies } from './trusted-proxies.js';
import { proxyUpgrade } from './upgrade-proxy.js';
import { createUpstream, type Upstream } from './upstream.js';
import { UndiciTransport } from './upstream-pool/undici-transport.js';

// The llhttp fast path switched off, as on a Node whose private binding changed: node:http is the
// HTTP/1.1 front end, undici the HTTP/1.1 transport and node:http's client reads tunnels' answers.
// The same proxy, through the same contract, against real sockets. (test/security's HTTP/1.1
// probes also run against a splitter in this mode.)

let app: Server;
let appUrl: string;
let front: HttpFront;
let upstream: Upstream;
let port: number;
const seen: { url: string; headers: IncomingMessage['headers']; body: number }[] = [];
/** requests whose response the app never finished (the proxy dropped them upstream) */
const cut: string[] = [];

beforeAll(async () => {
  process.env.DDS_FAST_PATHS_OFF = 'llhttp';
  resetFastPaths();
  app = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ url: req.url!, headers: req.headers, body: body.length });
      if (req.url === '/big') {
        res.end(Buffer.alloc(3 * 1024 * 1024, 7));
        return;
      }
      res.on('close', () => {
        if (!res.writableFinished) cut.push(req.url!);
      });
      if (req.url!.startsWith('/slow')) {
        setTimeout(() => res.end('slow\n'), 400);
        return;
      }
      res.setHeader('x-sha', createHash('sha256').update(body).digest('hex'));
      res.end(`${req.method} ${req.url} ${body.length}\n`);
    });
  });
  app.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nno\n');
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: upgrade\r\n\r\n`,
    );
    socket.on('data', (d: Buffer) => socket.write(d)); // echo
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  upstream = createUpstream(appUrl, {
    connections: 1,
    queueLimit: 1,
    queueTimeout: 300,
    headersTimeout: 5000,
  });
  const hooks: ProxyHooks = {
    trusted: new TrustedProxies([]),
    proto: 'http',
    forwarded: false,
    draining: () => false,
    requestHeaders: () => ['x-proxy', '1'],
  };
  front = createHttp1Server(
    { maxHeaderSize: 8192, headerTimeout: 2000, requestTimeout: 10_000, idleTimeout: 5000 },
    (req, res) => proxyRequest(req, res, upstream, hooks),
  );
  front.on('upgrade', (req: ProxyRequest, socket: Socket, head: Buffer) =>
    proxyUpgrade(req, socket, head, upstream, hooks),
  );
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  port = (front.address() as AddressInfo).port;
});

afterAll(async () => {
  front.closeAllConnections();
  front.close();
  app.closeAllConnections();
  app.close();
  await upstream.close();
  delete process.env.DDS_FAST_PATHS_OFF;
  resetFastPaths();
});

const exchange = (bytes: string | Buffer) => readUntilClosed(port, bytes);

describe('with llhttp switched off', () => {
  it('the front end is node:http and the transport undici, behind the same contract', () => {
    expect(parserBinding()).toBeUndefined();
    expect(front).toBeInstanceOf(NodeHttp1Server);
    expect(upstream.transport).toBeInstanceOf(UndiciTransport);
  });

  it('proxies pipelined requests with bodies, in order, with the proxy headers', async () => {
    seen.length = 0;
    const out = await exchange(
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello' +
        'POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
        'GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    );
    expect(out.match(/POST \/a 5\n|POST \/b 3\n|GET \/c 0\n/g)).toEqual([
      'POST /a 5\n',
      'POST /b 3\n',
      'GET /c 0\n',
    ]);
    expect(seen.map((s) => s.headers['x-proxy'])).toEqual(['1', '1', '1']);
    expect(seen[1]!.headers['transfer-encoding']).toBe('chunked');
  });

  it('streams a large response and a large body intact', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/big`);
    expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.alloc(3 * 1024 * 1024, 7))).toBe(true);
    const body = Buffer.alloc(2 * 1024 * 1024, 9);
    const up = await fetch(`http://127.0.0.1:${port}/sink`, { method: 'POST', body });
    expect(up.headers.get('x-sha')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('runs the request checks: a refused request is answered 400 and nothing after it is served', async () => {
    seen.length = 0;
    const out = await exchange(
      'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nHost: evil\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 /);
    expect(seen.map((s) => s.url)).toEqual(['/1']);
    const absolute = await exchange('GET http://h/abs?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect(absolute).toContain('GET /abs?q 0\n');
  });

  it('bounds the wait for the upstream: a full queue and a long wait get 503', async () => {
    // the transport's requests counted as they arrive (the real transport, observed)
    const t = upstream.transport!;
    const request = t.request.bind(t);
    let asked = 0;
    t.request = (ex) => {
      asked++;
      request(ex);
    };
    const until = async (n: number) => {
      while (asked < n) await new Promise((r) => setImmediate(r));
    };
    const slow = fetch(`http://127.0.0.1:${port}/slow`); // takes the one connection
    await until(1);
    const waiting = fetch(`http://127.0.0.1:${port}/slow`); // waits, then times out
    await until(2);
    const full = await fetch(`http://127.0.0.1:${port}/x`);
    t.request = request;
    expect(full.status).toBe(503);
    expect((await waiting).status).toBe(503);
    expect((await slow).status).toBe(200);
  });

  it('a client that goes away mid-request: the upstream request is dropped', async () => {
    const s = connect(port, '127.0.0.1');
    s.write('GET /slow-gone HTTP/1.1\r\nHost: h\r\n\r\n');
    while (!seen.some((x) => x.url === '/slow-gone')) await new Promise((r) => setImmediate(r));
    s.destroy();
    while (!cut.includes('/slow-gone')) await new Promise((r) => setImmediate(r));
    expect(cut).toEqual(['/slow-gone']);
  });

  it('tunnels only on a 101; any other answer is relayed and the connection closed', async () => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.write('GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly');
    const until = Date.now() + 5000;
    while (!out.includes('early') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(out).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*\r\n\r\nearly$/);
    s.destroy();
    const refused = await exchange(
      'GET /refuse HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n',
    );
    expect(refused).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close\r\n\r\nno\n$/);
    expect(seen.some((x) => x.url === '/after')).toBe(false);
  });
});
