import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createH1Upstream, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type ClientHttp2Session,
  constants,
  createServer as createH2Server,
  type Http2Server,
  connect as h2connect,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { type AddressInfo, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyRequest } from './proxy-contract.js';
import { type ProxyFailure, type ProxyHooks, proxyRequest } from './reverse-proxy.js';
import { serveH2Streams } from './server/h2-stream.js';
import { createHttp1Server } from './server/http1-server.js';
import { TrustedProxies } from './trusted-proxies.js';
import { createUpstream, type Upstream } from './upstream.js';

// One proxy, two front ends (the lean HTTP/1.1 server, HTTP/2 streams), two transports (core's
// HTTP/1.1 pool, HTTP/2 with prior knowledge): every pair must proxy alike through the one
// ProxyRequest / ProxyResponse contract. Real sockets on loopback, in-process upstreams.

const BIG = Buffer.alloc(6 * 1024 * 1024);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 31 + (i >> 10)) & 0xff;
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: number;
}
const seen: Seen[] = [];

/** What both upstreams answer, by path. */
function answer(
  path: string,
  body: Buffer,
): { status: number; headers: Record<string, string>; body?: Buffer } {
  if (path === '/big')
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: BIG };
  if (path === '/empty') return { status: 204, headers: { 'x-empty': 'yes' } };
  const sha = createHash('sha256').update(body).digest('hex');
  return {
    status: 200,
    headers: { 'content-type': 'text/plain', 'keep-alive': 'timeout=5', 'x-body-sha': sha },
    body: Buffer.from(`${body.length}`),
  };
}

function h1Upstream(): Promise<Server> {
  const server = createH1Upstream((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: body.length });
      const a = answer(req.url!, body);
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function h2Upstream(): Promise<Http2Server> {
  const server = createH2Server();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = headers[':path']!;
    if (path === '/refuse') {
      // a stream closed with an error code is destroyed with that error: expected here, not a failure
      stream.on('error', () => {});
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: headers[':method']!, url: path, headers, body: body.length });
      if (path === '/trailers') {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
        stream.end('with trailers');
        return;
      }
      const a = answer(path, body);
      const { 'keep-alive': _k, ...rest } = a.headers; // no connection-specific fields in HTTP/2
      if (a.body === undefined) {
        stream.respond({ ':status': a.status, ...rest }, { endStream: true });
        return;
      }
      stream.respond({ ':status': a.status, ...rest });
      stream.end(a.body);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const done: Array<{ path: string; status: number; failure: ProxyFailure | undefined }> = [];
const hooks: ProxyHooks = {
  trusted: new TrustedProxies([]),
  proto: 'http',
  forwarded: false,
  draining: () => false,
  requestHeaders: () => ['x-from-proxy', '1'],
  responseHeaders: () => ['x-proxied', 'yes'],
  onDone: (req: ProxyRequest, status, _s, failure) => done.push({ path: req.url, status, failure }),
};

type Front = 'http1' | 'h2';
type Back = 'http1' | 'h2c';
const fronts: Record<string, { port: number; close(): void }> = {};
const upstreams: Upstream[] = [];
const closers: Array<() => void> = [];

async function front(kind: Front, upstream: Upstream): Promise<{ port: number; close(): void }> {
  const handler = (req: ProxyRequest, res: Parameters<typeof proxyRequest>[1]) =>
    proxyRequest(req, res, upstream, hooks);
  const limits = { maxHeaderSize: 16384, headerTimeout: 5000, requestTimeout: 30_000, idleTimeout: 5000 };
  if (kind === 'http1') {
    const s = createHttp1Server(limits, handler);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return {
      port: (s.address() as AddressInfo).port,
      close: () => {
        s.closeAllConnections();
        s.close();
      },
    };
  }
  const s = createH2Server();
  serveH2Streams(s, handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, close: () => s.close() };
}

beforeAll(async () => {
  const up1 = await h1Upstream();
  const up2 = await h2Upstream();
  closers.push(
    () => up1.close(),
    () => up2.close(),
  );
  const urls: Record<Back, string> = {
    http1: `http://127.0.0.1:${(up1.address() as AddressInfo).port}`,
    h2c: `h2c://127.0.0.1:${(up2.address() as AddressInfo).port}`,
  };
  for (const f of ['http1', 'h2'] as Front[])
    for (const b of ['http1', 'h2c'] as Back[]) {
      const u = createUpstream(urls[b], { headersTimeout: 5000 });
      upstreams.push(u);
      fronts[`${f}>${b}`] = await front(f, u);
    }
});
afterAll(async () => {
  for (const f of Object.values(fronts)) f.close();
  for (const c of closers) c();
  await Promise.all(upstreams.map((u) => u.close()));
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  trailers?: Record<string, string | string[] | undefined>;
  /** HTTP/2: the stream's reset code, when it was reset */
  rst?: number;
}

const sessions = new Map<number, ClientHttp2Session>();
afterAll(() => {
  for (const s of sessions.values()) s.close();
});

/** One request through the front end on `port`, as an HTTP/1.1 or an HTTP/2 client. */
async function request(
  kind: Front,
  port: number,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> {
  if (kind === 'http1') {
    const s = connect(port, '127.0.0.1');
    const len = body === undefined ? '' : `content-length: ${body.length}\r\n`;
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    s.write(`${method} ${path} HTTP/1.1\r\nhost: proxy.test\r\n${len}${extra}connection: close\r\n\r\n`);
    if (body) s.write(body);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    await once(s, 'close');
    return parseHttp1(Buffer.concat(chunks));
  }
  let session = sessions.get(port);
  if (session === undefined || session.destroyed) {
    session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    sessions.set(port, session);
  }
  const stream = session.request(
    { ':method': method, ':path': path, ':authority': 'proxy.test', ...headers },
    { endStream: body === undefined },
  );
  if (body) stream.end(body);
  const reply: Reply = { status: 0, headers: {}, body: Buffer.alloc(0) };
  const chunks: Buffer[] = [];
  stream.on('response', (h) => {
    reply.status = Number(h[':status']);
    reply.headers = h;
  });
  stream.on('trailers', (t) => {
    reply.trailers = t;
  });
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('error', () => {}); // a reset: rstCode says which
  await new Promise((r) => stream.on('close', r));
  if (stream.rstCode !== constants.NGHTTP2_NO_ERROR) reply.rst = stream.rstCode;
  reply.body = Buffer.concat(chunks);
  return reply;
}

/** A whole HTTP/1.1 response (Content-Length or chunked). */
function parseHttp1(raw: Buffer): Reply {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  let rest = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const out: Buffer[] = [];
    for (;;) {
      const nl = rest.indexOf('\r\n');
      const n = Number.parseInt(rest.subarray(0, nl).toString('latin1'), 16);
      if (n === 0) break;
      out.push(rest.subarray(nl + 2, nl + 2 + n));
      rest = rest.subarray(nl + 4 + n);
    }
    return { status, headers, body: Buffer.concat(out) };
  }
  return { status, headers, body: rest };
}

const PAIRS = [
  ['http1', 'http1'],
  ['http1', 'h2c'],
  ['h2', 'http1'],
  ['h2', 'h2c'],
] as const;

describe.each(PAIRS)('%s client -> proxy -> %s upstream', (f, b) => {
  const port = () => fronts[`${f}>${b}`]!.port;

  it('forwards method, path, body and the proxy headers; drops hop-by-hop ones both ways', async () => {
    const body = Buffer.from('hello upstream');
    seen.length = 0;
    const r = await request(f, port(), 'POST', '/echo?q=1', body, { 'x-client': 'c' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(String(body.length));
    expect(r.headers['x-body-sha']).toBe(createHash('sha256').update(body).digest('hex'));
    expect(r.headers['x-proxied']).toBe('yes');
    expect(r.headers['keep-alive']).toBeUndefined();
    const up = seen.at(-1)!;
    expect(up.method).toBe('POST');
    expect(up.url).toBe('/echo?q=1');
    expect(up.headers['x-client']).toBe('c');
    expect(up.headers['x-from-proxy']).toBe('1');
    expect(up.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(up.headers['x-forwarded-host']).toBe('proxy.test');
  });

  it('streams a large response and a large request body intact', async () => {
    const r = await request(f, port(), 'GET', '/big');
    expect(r.body.length).toBe(BIG.length);
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(BIG_SHA);
    const sent = await request(f, port(), 'PUT', '/sink', BIG);
    expect(sent.body.toString()).toBe(String(BIG.length));
    expect(sent.headers['x-body-sha']).toBe(BIG_SHA);
  });

  it('a response that ends with its head is answered whole, and ends as a success', async () => {
    const r = await request(f, port(), 'GET', '/empty');
    expect(r.status).toBe(204);
    expect(r.headers['x-empty']).toBe('yes');
    expect(r.body.length).toBe(0);
    const d = done.filter((x) => x.path === '/empty').at(-1)!;
    expect(d).toEqual({ path: '/empty', status: 204, failure: undefined });
    // the connection or session serves on
    expect((await request(f, port(), 'GET', '/echo')).status).toBe(200);
  });

  it('a bodyless request reaches the upstream without a body or framing', async () => {
    seen.length = 0;
    await request(f, port(), 'GET', '/nobody');
    const up = seen.at(-1)!;
    expect(up.body).toBe(0);
    expect(up.headers['transfer-encoding']).toBeUndefined();
    expect(up.headers['content-length']).toBeUndefined();
  });
});

describe('HTTP/2 specifics through the contract', () => {
  it('trailers reach an HTTP/2 client that asked for them; an HTTP/1.1 client gets the body', async () => {
    const h2 = await request('h2', fronts['h2>h2c']!.port, 'GET', '/trailers', undefined, { te: 'trailers' });
    expect(h2.body.toString()).toBe('with trailers');
    expect(h2.trailers?.['x-checksum']).toBe('abc');
    const h1 = await request('http1', fronts['http1>h2c']!.port, 'GET', '/trailers');
    expect(h1.status).toBe(200);
    expect(h1.body.toString()).toBe('with trailers');
  });

  it('an upstream stream reset reaches an HTTP/2 client as the same reset; HTTP/1.1 gets 502', async () => {
    const h2 = await request('h2', fronts['h2>h2c']!.port, 'GET', '/refuse');
    expect(h2.rst).toBe(constants.NGHTTP2_REFUSED_STREAM);
    const h1 = await request('http1', fronts['http1>h2c']!.port, 'GET', '/refuse');
    expect(h1.status).toBe(502);
    expect(h1.body.toString()).toBe('upstream unavailable\n');
  });

  it('an HTTP/2 body without content-length goes to an HTTP/1.1 upstream chunked', async () => {
    seen.length = 0;
    const r = await request('h2', fronts['h2>http1']!.port, 'POST', '/echo', Buffer.from('abc'));
    expect(r.body.toString()).toBe('3');
    expect(seen.at(-1)!.headers['transfer-encoding']).toBe('chunked');
  });
});
