import type { AddressInfo } from 'node:net';
import { readUntilClosed } from '@dds/test-support/raw-exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientErrorKind, createHttpServer } from './http-server.js';

// node:http with core's limits (the low-traffic servers): a parse error is answered 400 unless a
// response is already on its way, which node:http tells only privately: core tracks it itself.
let port: number;
const errors: ClientErrorKind[] = [];
const server = createHttpServer(
  { maxHeaderSize: 4096, headerTimeout: 2000, requestTimeout: 5000, idleTimeout: 5000 },
  (req, res) => {
    if (req.url === '/started') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      return; // the body is never read: its bad chunk comes while this response is on its way
    }
    req.resume();
    req.on('end', () => res.end('done\n'));
  },
  (kind) => errors.push(kind),
);

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const exchange = (bytes: string | Buffer) => readUntilClosed(port, bytes);

describe('createHttpServer', () => {
  it('answers a body with invalid chunking 400 when no response has started', async () => {
    const out = await exchange('POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(errors).toContain('bad_request');
  });

  it('cuts the connection, without a 400 inside the started response, when one is on its way', async () => {
    const again = await exchange(
      'POST /started HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\nzz\r\n',
    );
    expect(again).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*partial/);
    expect(again).not.toContain('400 Bad Request');
  });

  it('answers the next request after a completed one on the same connection', async () => {
    const out = await exchange(
      'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    expect(out.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});
