import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { get, type Sidecar, startSidecar } from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, type Pki } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// An app that speaks only HTTP/2 with prior knowledge (h2c), reached by clients of any HTTP
// version: HTTP/1.1 requests become HTTP/2 streams and back.

let pki: Pki;
let server: Issued;
let app: Http2Server;
let sc: Sidecar;

beforeAll(async () => {
  pki = await makePki('h2c');
  server = await pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  // answers with what it received: method, path, authority, body size and digest; /big/N streams N bytes
  app = createServer((req, res) => {
    const big = /^\/big\/(\d+)$/.exec(req.url);
    if (big) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const total = Number(big[1]);
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 7);
      const more = () => {
        while (sent < total) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          if (!res.write(chunk.subarray(0, n))) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      hash.update(d);
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-app': 'h2c' });
      res.end(
        JSON.stringify({
          version: req.httpVersion,
          method: req.method,
          path: req.url,
          authority: req.headers[':authority'],
          forwardedProto: req.headers['x-forwarded-proto'],
          connection: req.headers.connection ?? null,
          size,
          sha256: hash.digest('hex'),
        }),
      );
    });
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  sc = await startSidecar([
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--upstream',
    `h2c://127.0.0.1:${(app.address() as AddressInfo).port}`,
  ]);
});
afterAll(async () => {
  await sc?.stop();
  app?.close();
});

describe('HTTP/1.1 clients against an h2c app', () => {
  it("a GET becomes an HTTP/2 stream: the app sees HTTP/2, the client's Host as :authority, no connection headers", async () => {
    const r = await get(sc.port, '/hello?x=1', { ca: pki.ca.pem, headers: { connection: 'keep-alive' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-app']).toBe('h2c');
    expect(JSON.parse(r.body.toString())).toMatchObject({
      version: '2.0',
      method: 'GET',
      path: '/hello?x=1',
      authority: `127.0.0.1:${sc.port}`, // the client's Host, as sent
      forwardedProto: 'https',
      connection: null,
      size: 0,
    });
  });

  it('request bodies arrive whole, with a length and chunked', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const digest = createHash('sha256').update(body).digest('hex');
    const sized = await get(sc.port, '/upload', { ca: pki.ca.pem, method: 'POST', body });
    expect(JSON.parse(sized.body.toString())).toMatchObject({
      method: 'POST',
      size: body.length,
      sha256: digest,
    });
    const chunked = await get(sc.port, '/upload', {
      ca: pki.ca.pem,
      method: 'POST',
      body,
      headers: { 'transfer-encoding': 'chunked' },
    });
    expect(JSON.parse(chunked.body.toString())).toMatchObject({ size: body.length, sha256: digest });
  });

  it('a large response streams back to an HTTP/1.1 client', async () => {
    const r = await get(sc.port, '/big/20000000', { ca: pki.ca.pem });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(20_000_000);
  });
});
