import type { Server } from 'node:net';
import { connect } from 'node:net';
import {
  createHttp1Server,
  createUpstream,
  type ProxyHooks,
  proxyRequest,
  proxyUpgrade,
  TrustedProxies,
} from '@dds/core';
import { freePorts, type Proc, startComponent, waitForHttp } from '@dds/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

// The shared HTTP hot path, exercised in-process against the real demo app, behind the front end
// HTTP/1.1 clients meet: core's lean HTTP/1.1 server (the HTTP/2 front end, both against HTTP/1.1
// and HTTP/2 upstreams: packages/core/src/http/proxy-contract.test.ts).
const FRONT_ENDS = { lean: createHttp1Server } as const;
type FrontEnd = keyof typeof FRONT_ENDS;
let app: Proc;
let appPort: number;
const proxies: Server[] = [];
const ports = {} as Record<FrontEnd, { proxy: number; trusted: number }>;
const done: Array<{ status: number; failure?: string }> = [];

function makeProxy(front: FrontEnd, trusted: string[], upstreamUrl: string, port: number): Promise<Server> {
  const upstream = createUpstream(upstreamUrl, { headersTimeout: 500 });
  const hooks: ProxyHooks = {
    trusted: new TrustedProxies(trusted),
    proto: 'http',
    forwarded: true,
    draining: () => false,
    requestHeaders: () => ['x-dds-test', '1'],
    responseHeaders: () => ['x-dds-proxied', 'yes'],
    onDone: (_req, status, _s, failure) => done.push({ status, failure }),
  };
  const server = FRONT_ENDS[front](
    { maxHeaderSize: 8192, headerTimeout: 2000, requestTimeout: 10_000, idleTimeout: 5000 },
    (req, res) => proxyRequest(req, res, upstream, hooks),
  );
  server.on('upgrade', (req, socket, head) => proxyUpgrade(req, socket, head, upstream, hooks));
  proxies.push(server);
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

/** Writes raw bytes and returns what came back until the server closed or 1 s passed. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.write(bytes);
    setTimeout(() => s.destroy(), 1000);
  });
}

beforeAll(async () => {
  const p = await freePorts(3);
  appPort = p[0]!;
  ports.lean = { proxy: p[1]!, trusted: p[2]! };
  app = startComponent('demo-app', [
    '--listen',
    `127.0.0.1:${appPort}`,
    '--admin',
    'off',
    '--log-level',
    'warn',
  ]);
  await waitForHttp(`http://127.0.0.1:${appPort}/`);
  for (const front of Object.keys(FRONT_ENDS) as FrontEnd[]) {
    await makeProxy(front, [], `http://127.0.0.1:${appPort}`, ports[front].proxy);
    await makeProxy(front, ['127.0.0.0/8'], `http://127.0.0.1:${appPort}`, ports[front].trusted);
  }
});
afterAll(async () => {
  for (const s of proxies) s.close();
  await app?.kill();
});

type Echo = { method: string; url: string; headers: Record<string, string>; bodyBytes: number };

describe.each(Object.keys(FRONT_ENDS) as FrontEnd[])('proxyRequest behind %s', (front) => {
  let proxyPort: number;
  let trustedPort: number;
  beforeAll(() => {
    ({ proxy: proxyPort, trusted: trustedPort } = ports[front]);
  });

  it('forwards method, path, body and headers; sets forwarding headers; drops hop-by-hop ones', async () => {
    const r = await fetch(`http://127.0.0.1:${proxyPort}/echo?a=1`, {
      method: 'POST',
      body: 'x'.repeat(1000),
      headers: {
        'x-forwarded-for': '6.6.6.6',
        forwarded: 'for=6.6.6.6',
        'x-custom': 'keep',
        'x-gone': 'drop',
        connection: 'x-gone',
      },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-dds-proxied')).toBe('yes');
    const e = (await r.json()) as Echo;
    expect(e.method).toBe('POST');
    expect(e.url).toBe('/echo?a=1');
    expect(e.bodyBytes).toBe(1000);
    expect(e.headers['x-custom']).toBe('keep');
    expect(e.headers['x-dds-test']).toBe('1');
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(e.headers.forwarded).toBe(`for=127.0.0.1;proto=http;host="127.0.0.1:${proxyPort}"`);
    expect(e.headers['x-forwarded-proto']).toBe('http');
    expect(e.headers.host).toBe(`127.0.0.1:${proxyPort}`);
  });

  it('appends to X-Forwarded-For only from a trusted peer', async () => {
    const r = await fetch(`http://127.0.0.1:${trustedPort}/echo`, {
      headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' },
    });
    const e = (await r.json()) as Echo;
    expect(e.headers['x-forwarded-for']).toBe('6.6.6.6, 127.0.0.1');
    expect(e.headers['x-forwarded-proto']).toBe('https');
  });

  it('streams large responses and request bodies intact', async () => {
    const r = await fetch(`http://127.0.0.1:${proxyPort}/bytes/${20 * 1024 * 1024}`);
    const body = Buffer.from(await r.arrayBuffer());
    expect(body.length).toBe(20 * 1024 * 1024);
    expect(body.every((b) => b === 0x61)).toBe(true);
    const up = await fetch(`http://127.0.0.1:${proxyPort}/sink`, {
      method: 'POST',
      body: Buffer.alloc(8 * 1024 * 1024, 1),
    });
    expect(((await up.json()) as Echo).bodyBytes).toBe(8 * 1024 * 1024);
  });

  it('answers 504 when the upstream is too slow and 502 when it is down', async () => {
    const slow = await fetch(`http://127.0.0.1:${proxyPort}/slow?ms=2000`);
    expect(slow.status).toBe(504);
    expect(await slow.text()).toBe('upstream timed out\n');
    expect(done.some((d) => d.status === 504 && d.failure === 'upstream_timeout')).toBe(true);
    const [deadPort] = await freePorts(1);
    const dead = await makeProxy(front, [], 'http://127.0.0.1:1', deadPort!);
    const r = await fetch(`http://127.0.0.1:${deadPort}/`);
    expect(r.status).toBe(502);
    expect(await r.text()).toBe('upstream unavailable\n');
    dead.close();
  });

  it('rejects smuggling and malformed requests with 400 and never forwards them', async () => {
    const before = done.length;
    const clte = await raw(
      proxyPort,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    expect(clte).toMatch(/^HTTP\/1\.1 400/);
    expect(clte).not.toContain('smuggled');
    const obsFold = await raw(proxyPort, 'GET /echo HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n');
    expect(obsFold).toMatch(/^HTTP\/1\.1 400/);
    const badChunk = await raw(
      proxyPort,
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    );
    expect(badChunk).toMatch(/400/);
    const dupCl = await raw(
      proxyPort,
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    );
    expect(dupCl).toMatch(/^HTTP\/1\.1 400/);
    const garbage = await raw(proxyPort, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(done.length - before).toBeLessThanOrEqual(1); // only the bad chunk's request head may have started
    const big = await raw(proxyPort, `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    // the proxy still serves others
    expect((await fetch(`http://127.0.0.1:${proxyPort}/`)).status).toBe(200);
  });

  it('passes WebSocket upgrades through', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`);
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    const reply = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
    ws.send('ping through the proxy');
    expect(await reply).toBe('ping through the proxy');
    ws.close();
  });
});
