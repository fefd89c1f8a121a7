import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { type ForwardOptions, upstreamHeaders } from './forward-headers.js';
import type { Upstream } from './upstream.js';

/**
 * WebSocket and other Upgrade requests: replay the request head to the upstream on a fresh
 * connection, then splice the two sockets. The upstream's 101 passes through unchanged.
 */
export function proxyUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  upstream: Upstream,
  opts: ForwardOptions,
  extra?: readonly string[],
): void {
  const c = upstream.connect;
  const up: Socket =
    'path' in c
      ? connect(c.path)
      : c.tls
        ? tlsConnect({ host: c.host, port: c.port, servername: c.host })
        : connect(c.port, c.host);
  const headers = upstreamHeaders(req, opts, true);
  if (extra) headers.push(...extra);
  let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
  up.write(`${text}\r\n`);
  if (head.length) up.write(head);
  let answered = false;
  up.once('data', () => {
    answered = true;
  });
  up.on('error', () => {
    if (!answered && client.writable)
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    else client.destroy();
  });
  client.on('error', () => up.destroy());
  up.on('close', () => client.destroy());
  client.on('close', () => up.destroy());
  up.pipe(client);
  client.pipe(up);
}
