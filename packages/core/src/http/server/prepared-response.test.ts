import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyRequest } from '../proxy-contract.js';
import { Http1Server, type LeanResponse } from './http1-server.js';
import { PreparedResponse } from './prepared-response.js';

// Prepared answers through the lean server, read back as raw bytes: framing per request.
const OK = new PreparedResponse(
  200,
  ['content-type', 'application/json', 'x-a', 'b'],
  Buffer.from('{"ok":true}'),
);
const GONE = new PreparedResponse(503, ['content-type', 'text/plain'], Buffer.from('draining\n'));

let server: Http1Server;
let port: number;

beforeAll(async () => {
  server = new Http1Server(
    { maxHeaderSize: 2048, headerTimeout: 1000, requestTimeout: 2000, idleTimeout: 2000 },
    (req: ProxyRequest, res: LeanResponse) => {
      res.endPrepared(req.url === '/gone' ? GONE : OK);
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** Sends `raw`, collects until the server closes or `count` answers arrived. */
function exchange(raw: string, count: number): Promise<{ out: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(raw));
    let out = '';
    const done = (closed: boolean) => {
      resolve({ out, closed });
      s.destroy();
    };
    s.on('data', (d) => {
      out += d.toString('latin1');
      if ((out.match(/HTTP\/1\.1 /g) ?? []).length >= count && /(\}|\n|\r\n\r\n)$/.test(out)) {
        // give a close that follows the last answer a moment to arrive
        setTimeout(() => done(s.readyState !== 'open'), 50);
      }
    });
    s.on('close', () => done(true));
    s.on('error', () => {});
    setTimeout(() => done(false), 3000);
  });
}

describe('PreparedResponse', () => {
  it('serves pipelined requests in order with length, date and body, keeping the connection', async () => {
    const { out, closed } = await exchange(
      'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /gone HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
      3,
    );
    expect(closed).toBe(false);
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((a) => a.slice(9, 12))).toEqual(['200', '503', '200']);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200 OK\r\ncontent-type: application\/json\r\nx-a: b\r\n/);
    expect(answers[0]).toMatch(
      /\r\ncontent-length: 11\r\ndate: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r\n\r\n\{"ok":true\}$/,
    );
    expect(answers[1]).toMatch(/\r\ncontent-length: 9\r\n.*\r\n\r\ndraining\n$/s);
    expect(out).not.toMatch(/connection:/i);
  });

  it('answers HEAD without a body, HTTP/1.0 keep-alive with its header, and closes when asked', async () => {
    const head = await exchange('HEAD / HTTP/1.1\r\nHost: a\r\n\r\n', 1);
    expect(head.out).toMatch(/content-length: 11\r\n.*\r\n\r\n$/s);
    expect(head.out).not.toContain('ok');

    const ten = await exchange('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 1);
    expect(ten.out).toContain('\r\nconnection: keep-alive\r\n');
    expect(ten.closed).toBe(false);

    const tenPlain = await exchange('GET / HTTP/1.0\r\n\r\n', 1);
    expect(tenPlain.out).toContain('\r\nconnection: close\r\n');
    expect(tenPlain.closed).toBe(true);

    const close = await exchange('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 1);
    expect(close.out).toMatch(/connection: close\r\n\r\n\{"ok":true\}$/);
    expect(close.closed).toBe(true);
  });

  it('refuses framing headers it writes itself', () => {
    expect(() => new PreparedResponse(200, ['Content-Length', '3'], Buffer.from('abc'))).toThrow(
      /content-length/,
    );
    expect(() => new PreparedResponse(200, ['connection', 'close'], Buffer.alloc(0))).toThrow(/connection/);
  });
});
