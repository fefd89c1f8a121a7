import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHttpServer, type HttpLimits } from '@dds/core/http/http-server';

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The optional plain-HTTP listener: every request gets a 308 to the same path on https://,
 * nothing is proxied. A missing or malformed Host gets 400 rather than a redirect elsewhere.
 */
export function createRedirectServer(limits: HttpLimits, httpsPort: () => number): Server {
  return createHttpServer(limits, (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host;
    if (!host || !HOST.test(host)) {
      res
        .writeHead(400, { 'content-type': 'text/plain', 'content-length': '20' })
        .end('invalid Host header\n');
      return;
    }
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
    const port = httpsPort();
    const path = req.url?.startsWith('/') ? req.url : '/';
    const location = `https://${name}${port === 443 ? '' : `:${port}`}${path}`;
    res.writeHead(308, { location, 'content-length': '0' }).end();
  });
}
