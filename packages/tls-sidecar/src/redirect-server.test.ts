import type { Server } from 'node:http';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedirectServer } from './redirect-server.js';

let server: Server;
let port: number;
beforeAll(async () => {
  server = createRedirectServer(
    { maxHeaderSize: 8192, headerTimeout: 2000, requestTimeout: 5000, idleTimeout: 5000 },
    () => 8443,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

function send(host: string, path = '/'): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, setHost: false, headers: { host }, agent: false },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode!, location: res.headers.location });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('redirect listener', () => {
  it('keeps host, path and query; swaps the port for the HTTPS one', async () => {
    expect(await send('shop.example:8081', '/cart?id=7')).toEqual({
      status: 308,
      location: 'https://shop.example:8443/cart?id=7',
    });
    expect(await send('[::1]:8081', '/')).toEqual({ status: 308, location: 'https://[::1]:8443/' });
  });

  it('refuses Host values that could steer the redirect elsewhere', async () => {
    for (const host of ['evil.example/path', 'a@b.example', 'a b', '', 'x.example:80:80', 'x.example\\y']) {
      expect((await send(host)).status, host).toBe(400);
    }
  });

  it('any Host either gets 400 or a redirect to exactly that host name (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), async (raw) => {
        // only strings Node's client will put on the wire as a header value
        const host = raw.replace(/[^\x21-\x7e]/g, 'a');
        const r = await send(host);
        if (r.status === 308) {
          const name = host.startsWith('[')
            ? host.slice(0, host.indexOf(']') + 1)
            : host.replace(/:\d+$/, '');
          expect(r.location).toBe(`https://${name}:8443/`);
          expect(r.location).toMatch(/^https:\/\/[A-Za-z0-9.\-[\]:]+:8443\/$/);
        } else expect(r.status).toBe(400);
      }),
      { numRuns: 200 },
    );
  });
});
