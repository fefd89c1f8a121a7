import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ProxyHooks, proxyRequest } from '../reverse-proxy.js';
import { createHttp1Server, type HttpFront } from '../server/http1-server.js';
import { TrustedProxies } from '../trusted-proxies.js';
import { createUpstream, type Upstream, type UpstreamOptions } from '../upstream.js';

// Core's HTTP/1.1 upstream pool behind proxyRequest (and the lean HTTP/1.1 front end), against a real TCP upstream that answers
// with exactly the bytes a test scripts (valid, odd, and hostile framing).

type Respond = (head: string, sock: Socket, body: Buffer) => void;

interface RawUpstream {
  port: number;
  connections: number;
  requests: string[];
  respond: Respond;
  sockets: Set<Socket>;
  server: NetServer;
}

/** Reads request heads (and Content-Length or chunked bodies) and hands each to `respond`. */
async function rawUpstream(): Promise<RawUpstream> {
  const up: RawUpstream = {
    port: 0,
    connections: 0,
    requests: [],
    respond: (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
    sockets: new Set(),
    server: createServer((sock) => {
      up.connections++;
      up.sockets.add(sock);
      sock.on('close', () => up.sockets.delete(sock));
      sock.on('error', () => {});
      let buf = Buffer.alloc(0);
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          let rest = buf.subarray(end + 4);
          let body: Buffer = Buffer.alloc(0);
          const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (cl) {
            const n = Number(cl[1]);
            if (rest.length < n) return;
            body = rest.subarray(0, n);
            rest = rest.subarray(n);
          } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
            const last = rest.indexOf('0\r\n\r\n');
            if (last < 0) return;
            body = dechunk(rest.subarray(0, last + 5));
            rest = rest.subarray(last + 5);
          }
          buf = rest;
          up.requests.push(head);
          up.respond(head, sock, body);
        }
      });
    }),
  };
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
  up.port = (up.server.address() as AddressInfo).port;
  return up;
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i);
    const n = Number.parseInt(b.subarray(i, eol).toString(), 16);
    if (n === 0) return Buffer.concat(out);
    out.push(b.subarray(eol + 2, eol + 2 + n));
    i = eol + 2 + n + 2;
  }
}

const done: Array<{ status: number; failure: string | undefined }> = [];
/** request targets the proxy has received, in order */
const received: string[] = [];
let up: RawUpstream;
let upstream: Upstream;
let proxy: HttpFront;
let port: number;
let extraRequestHeaders: readonly string[] | undefined;

async function startProxy(opts: UpstreamOptions): Promise<void> {
  upstream = createUpstream(`http://127.0.0.1:${up.port}`, opts);
  const hooks: ProxyHooks = {
    trusted: new TrustedProxies([]),
    proto: 'http',
    forwarded: false,
    draining: () => false,
    requestHeaders: () => extraRequestHeaders,
    onDone: (_req, status, _s, failure) => done.push({ status, failure }),
  };
  proxy = createHttp1Server(
    { maxHeaderSize: 16384, headerTimeout: 5000, requestTimeout: 10_000, idleTimeout: 5000 },
    (req, res) => {
      received.push(req.url);
      return proxyRequest(req, res, upstream, hooks);
    },
  );
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  port = (proxy.address() as AddressInfo).port;
}

async function stopProxy(): Promise<void> {
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await upstream.close();
}

/** One raw request on a fresh client connection; resolves with all bytes until close or idle. */
function raw(bytes: string | Buffer, idleMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    let t: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(t);
      s.destroy();
      resolve(out);
    };
    s.on('data', (d) => {
      out += d.toString('latin1');
      clearTimeout(t);
      t = setTimeout(finish, idleMs);
    });
    s.on('close', finish);
    s.on('error', finish);
    s.write(bytes);
    t = setTimeout(finish, 3000);
  });
}

const get = (path = '/', idleMs = 300) => raw(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, idleMs);

beforeAll(async () => {
  up = await rawUpstream();
});
afterAll(async () => {
  for (const s of up.sockets) s.destroy();
  await new Promise((r) => up.server.close(r));
});

describe('HTTP/1.1 upstream pool', () => {
  beforeAll(() => startProxy({ headersTimeout: 5000, bodyTimeout: 5000, connections: 4 }));
  afterAll(stopProxy);
  afterEach(() => {
    extraRequestHeaders = undefined;
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });

  it('reuses one keep-alive connection and writes a valid request head', async () => {
    const before = up.connections;
    for (let i = 0; i < 5; i++)
      expect(await get(`/n${i}`)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
    expect(up.connections - before).toBeLessThanOrEqual(1);
    const last = up.requests.at(-1)!;
    expect(last).toMatch(/^GET \/n4 HTTP\/1\.1\r\n/);
    expect(last).toContain('\r\nhost: x\r\n'); // written by the proxy, not copied
    expect(last).toContain('\r\nx-forwarded-for: 127.0.0.1\r\n');
    expect(last).toContain('\r\nconnection: keep-alive');
  });

  it('adds the upstream Host when the client sent none (HTTP/1.0)', async () => {
    await raw('GET /h HTTP/1.0\r\n\r\n');
    expect(up.requests.at(-1)).toContain(`\r\nhost: 127.0.0.1:${up.port}`);
  });

  it('decodes a chunked response, drops trailers and interim 1xx, and re-frames it', async () => {
    up.respond = (_h, s) =>
      s.write(
        'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-up: 1\r\n\r\n' +
          '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: t\r\n\r\n',
      );
    const r = await get('/chunked');
    expect(r).not.toContain('103');
    expect(r).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r).toContain('x-up: 1');
    expect(r).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
    // re-framed: chunk boundaries are the proxy's own (Node 24's llhttp hands both chunks over at once)
    expect(dechunk(Buffer.from(r.slice(r.indexOf('\r\n\r\n') + 4), 'latin1')).toString()).toBe('hello world');
    expect(r).not.toContain('x-trailer');
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    expect((await get()).endsWith('ok')).toBe(true); // the connection is still in step
  });

  it('answers HEAD, 204 and 304 without reading a body', async () => {
    up.respond = (h, s) => {
      if (h.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
      else if (h.includes('/204')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
      else s.write('HTTP/1.1 304 Not Modified\r\netag: "a"\r\n\r\n');
    };
    const head = await raw('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*content-length: 1000\r\n[\s\S]*\r\n\r\n$/);
    expect(await get('/204')).toMatch(/^HTTP\/1\.1 204 No Content\r\n[\s\S]*\r\n\r\n$/);
    expect(await get('/304')).toMatch(/^HTTP\/1\.1 304 Not Modified\r\n[\s\S]*etag: "a"\r\n[\s\S]*\r\n\r\n$/);
  });

  it('reads a close-delimited body to the end', async () => {
    up.respond = (_h, s) => s.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
    const r = await get('/close');
    expect(r).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r).toContain('until the end');
  });

  it('rejects Content-Length with Transfer-Encoding and differing Content-Lengths (502)', async () => {
    const n = done.length;
    up.respond = (_h, s) =>
      s.write(
        'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n',
      );
    expect(await get('/clte')).toMatch(/^HTTP\/1\.1 502 /);
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab');
    expect(await get('/dupcl')).toMatch(/^HTTP\/1\.1 502 /);
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\nbad header\r\n\r\n');
    expect(await get('/bad')).toMatch(/^HTTP\/1\.1 502 /);
    expect(done.slice(n).map((d) => d.failure)).toEqual([
      'upstream_error',
      'upstream_error',
      'upstream_error',
    ]);
  });

  it('never hands a second, unrequested response to the next request', async () => {
    let k = 0;
    up.respond = (_h, s) => {
      k++;
      s.write(
        `HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nr${k}HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsmuggled`,
      );
    };
    const rs: string[] = [];
    for (let i = 0; i < 4; i++) rs.push(await get('/smuggle'));
    for (const r of rs) {
      expect(r).toMatch(/\r\n\r\nr\d$/);
      expect(r).not.toContain('smuggled');
    }
    // bytes sent on an idle connection are not kept for the next request either
    let lateConnectionClosed: Promise<unknown> = Promise.resolve();
    up.respond = (_h, s) => {
      lateConnectionClosed = new Promise((r) => s.once('close', r));
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate'), 50);
    };
    await get('/late');
    // the pool drops the connection the unsolicited bytes came on
    await lateConnectionClosed;
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh');
    expect(await get('/after')).toMatch(/\r\n\r\nfresh$/);
  });

  it('cuts the client off when the upstream body ends short, and reports it', async () => {
    const n = done.length;
    up.respond = (_h, s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf');
    const r = await get('/short');
    expect(r).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r).not.toMatch(/\r\n\r\nhalf.{6}/);
    expect(done.slice(n)).toEqual([{ status: 200, failure: 'upstream_error' }]);
  });

  it('sends a chunked request body re-chunked and a sized one as it is', async () => {
    let got = '';
    up.respond = (h, s, body) => {
      got = `${h}\n${body.toString()}`;
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    };
    const r = await raw(
      'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n',
    );
    expect(r).toMatch(/\r\n\r\nok$/);
    expect(got).toMatch(/\r\ntransfer-encoding: chunked\r\n/);
    expect(got.endsWith('\nabcdefg')).toBe(true);
    await raw('POST /l HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    expect(got).toMatch(/\r\ncontent-length: 5\r\n/); // the verified length, written by the proxy
    expect(got).not.toMatch(/transfer-encoding/i);
    expect(got.endsWith('\nhello')).toBe(true);
  });

  it('refuses hook headers that would inject lines (502, nothing sent)', async () => {
    const before = up.requests.length;
    extraRequestHeaders = ['x-id', 'a\r\nx-admin: 1'];
    expect(await get('/inject')).toMatch(/^HTTP\/1\.1 502 /);
    extraRequestHeaders = ['bad name', 'v'];
    expect(await get('/inject')).toMatch(/^HTTP\/1\.1 502 /);
    expect(up.requests.length).toBe(before);
  });

  it('retries a request whose reused connection the upstream had just closed', async () => {
    await get('/warm');
    let closeNext = true;
    up.respond = (_h, s) => {
      if (closeNext) {
        closeNext = false;
        s.destroy(); // as if the idle connection timed out on the upstream side
        return;
      }
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nretry');
    };
    expect(await get('/retry')).toMatch(/\r\n\r\nretry$/);
  });

  it('survives arbitrary upstream bytes: a valid answer or 502/504, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        up.respond = (_h, s) => s.end(Buffer.from(bytes));
        const r = await get('/fuzz', 60);
        // the client always gets an answer: the upstream's, or the proxy's 502/504; never silence
        expect(r, `upstream sent ${JSON.stringify(Buffer.from(bytes).toString('latin1'))}`).toMatch(
          /^HTTP\/1\.1 \d{3} /,
        );
      }),
      { numRuns: 40 },
    );
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    expect(await get('/after-fuzz')).toMatch(/\r\n\r\nok$/);
  });

  it('streams any chunking of a body, split at any byte, intact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 64 }),
        async (chunks, split) => {
          const wire = Buffer.concat([
            Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'),
            ...chunks.map((c) =>
              Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]),
            ),
            Buffer.from('0\r\n\r\n'),
          ]);
          up.respond = (_h, s) => {
            for (let i = 0; i < wire.length; i += split) s.write(wire.subarray(i, i + split));
          };
          const r = await fetch(`http://127.0.0.1:${port}/prop`);
          expect(r.status).toBe(200);
          expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.concat(chunks))).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('HTTP/1.1 upstream pool: limits', () => {
  afterEach(stopProxy);

  it('times out waiting for the head (504) and between body bytes (reset, reported)', async () => {
    await startProxy({ headersTimeout: 300, bodyTimeout: 300 });
    const n = done.length;
    up.respond = () => {};
    expect(await get('/silent')).toMatch(/^HTTP\/1\.1 504 [\s\S]*upstream timed out\n$/);
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab');
    const r = await raw('GET /stall HTTP/1.1\r\nHost: x\r\n\r\n', 2000);
    expect(r).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nab$/);
    expect(done.slice(n)).toEqual([
      { status: 504, failure: 'upstream_timeout' },
      { status: 200, failure: 'upstream_timeout' },
    ]);
  });

  it('closes connections idle longer than the keep-alive timeout', async () => {
    await startProxy({ keepAliveTimeout: 200 });
    up.respond = (_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    await get('/idle');
    expect(up.sockets.size).toBeGreaterThan(0);
    const deadline = Date.now() + 3000;
    while (up.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(up.sockets.size).toBe(0);
  });

  it("closes a connection a second before the upstream's Keep-Alive timeout would", async () => {
    await startProxy({});
    up.respond = (_h, s) =>
      s.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=2\r\ncontent-length: 2\r\n\r\nok');
    const r = await get('/hint');
    expect(r).toMatch(/\r\n\r\nok$/);
    expect(r).not.toContain('timeout=2'); // hop-by-hop: not forwarded (the proxy sends its own)
    const started = Date.now();
    while (up.sockets.size > 0 && Date.now() - started < 5000)
      await new Promise((res) => setTimeout(res, 50));
    expect(up.sockets.size).toBe(0);
    expect(Date.now() - started).toBeLessThan(4000); // the pool default is 30 s
  });

  it('queues requests beyond the connection limit and serves them all', async () => {
    await startProxy({ connections: 2 });
    const before = up.connections;
    up.respond = (_h, s) => setTimeout(() => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 30);
    const rs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => fetch(`http://127.0.0.1:${port}/q${i}`)),
    );
    expect(rs.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(up.connections - before).toBeLessThanOrEqual(2);
  });

  it('does not send a queued request whose client has gone', async () => {
    await startProxy({ connections: 1 });
    let atUpstream: () => void = () => {};
    const firstAtUpstream = new Promise<void>((r) => {
      atUpstream = r;
    });
    up.respond = (_h, s) => {
      atUpstream();
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 300);
    };
    const first = fetch(`http://127.0.0.1:${port}/first`);
    await firstAtUpstream; // the one connection is busy
    const gone = connect(port, '127.0.0.1');
    gone.on('error', () => {});
    gone.write('GET /gone HTTP/1.1\r\nHost: x\r\n\r\n');
    await vi.waitFor(() => expect(received).toContain('/gone'), { timeout: 5000, interval: 5 }); // queued
    // gone for good (a reset): a client that only half-closes is still owed its answer
    gone.resetAndDestroy();
    expect((await first).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/third`)).status).toBe(200);
    expect(up.requests.some((h) => h.startsWith('GET /gone'))).toBe(false);
    expect(up.requests.some((h) => h.startsWith('GET /third'))).toBe(true);
  });

  it('answers 502 at once when nothing listens', async () => {
    const u = up;
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    up = { ...u, port: deadPort };
    await startProxy({});
    up = u;
    const r = await fetch(`http://127.0.0.1:${port}/`);
    expect(r.status).toBe(502);
    expect(await r.text()).toBe('upstream unavailable\n');
  });
});
