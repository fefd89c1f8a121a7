import { request as httpRequest, type IncomingMessage, STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { parserBinding } from '../internals/http-parser.js';
import { type ForwardOptions, isHopByHopResponseName, upstreamHeaders } from './forward-headers.js';
import {
  bodyChunksOwned,
  completeHeaders,
  dropTrailers,
  type HeaderCollector,
  type NativeParser,
  rawHeader,
  strictParser,
} from './llhttp.js';
import type { ProxyRequest } from './proxy-contract.js';
import type { Upstream } from './upstream.js';

/** Timeouts of a tunnel (WebSocket and other upgrades); milliseconds, 0 for none. */
export interface TunnelTimeouts {
  /** to connect to the upstream */
  connect: number;
  /** for the upstream's response head */
  response: number;
  /** with no bytes either way, once spliced */
  idle: number;
}

const DEFAULT_TIMEOUTS: TunnelTimeouts = { connect: 5000, response: 60_000, idle: 600_000 };

type TunnelParser = NativeParser & HeaderCollector & { tunnel: Tunnel };

function onBegin(this: TunnelParser): void {}
function onHead(
  this: TunnelParser,
  _major: number,
  _minor: number,
  headers: string[] | undefined,
  _method: unknown,
  _url: unknown,
  status: number,
): number {
  return this.tunnel.head(status, completeHeaders(this, headers));
}
function onBody(this: TunnelParser, chunk: Buffer): void {
  this.tunnel.body(chunk);
}
function onComplete(this: TunnelParser): void {
  dropTrailers(this);
  this.tunnel.complete();
}

/**
 * WebSocket and other Upgrade requests. The request goes to the upstream on a fresh connection
 * and the sockets are spliced only if the upstream answers 101 with the Upgrade token the client
 * asked for. Any other answer is relayed as an ordinary response and the client connection is
 * closed: what the client sends after its request never reaches the upstream unparsed. Bytes
 * the client sends before the 101 wait. Connect, response and idle timeouts apply.
 */
export function proxyUpgrade(
  req: ProxyRequest,
  client: Duplex,
  head: Buffer,
  upstream: Upstream,
  opts: ForwardOptions,
  extra?: readonly string[],
): void {
  if (parserBinding() === undefined) nodeHttpTunnel(req, client, head, upstream, opts, extra);
  else new Tunnel(req, client, head, upstream, opts, extra);
}

class Tunnel {
  private readonly up: Socket;
  private readonly parser: TunnelParser;
  private readonly wanted: string;
  private readonly timeouts: TunnelTimeouts;
  /** client bytes that arrived before the upstream agreed */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;
  private state: 'connecting' | 'waiting' | 'relaying' | 'spliced' | 'done' = 'connecting';
  private timer: NodeJS.Timeout | undefined;
  private readonly onClientData = (d: Buffer) => {
    this.pending.push(d);
    this.pendingBytes += d.length;
    if (this.pendingBytes > 64 * 1024) this.client.pause(); // resumed by the splice's pipe
  };

  constructor(
    req: ProxyRequest,
    private readonly client: Duplex,
    head: Buffer,
    upstream: Upstream,
    opts: ForwardOptions,
    extra: readonly string[] | undefined,
  ) {
    this.timeouts = upstream.tunnel ?? DEFAULT_TIMEOUTS;
    this.wanted = (rawHeader(req.rawHeaders, 'upgrade') ?? '').trim().toLowerCase();
    if (head.length) this.pending.push(Buffer.from(head));
    client.on('data', this.onClientData);
    client.on('error', () => this.close());
    client.on('close', () => this.close());
    const up = connectUpstream(upstream);
    this.up = up;
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    const h = tunnelHeaders(req, upstream, opts, extra);
    for (let i = 0; i < h.length; i += 2) text += `${h[i]}: ${h[i + 1]}\r\n`;
    up.write(`${text}\r\n`);
    this.parser = strictParser(
      'response',
      16 * 1024,
      { tunnel: this as Tunnel },
      { begin: onBegin, headersComplete: onHead, body: onBody, complete: onComplete },
    );
    this.arm(this.timeouts.connect);
    up.on('connect', () => {
      this.state = 'waiting';
      this.arm(this.timeouts.response);
    });
    up.on('secureConnect', () => {
      this.state = 'waiting';
      this.arm(this.timeouts.response);
    });
    up.on('data', (d: Buffer) => this.fromUpstream(d));
    up.on('end', () => this.upstreamEnded());
    up.on('error', () => this.upstreamFailed(false));
    up.on('close', () => this.upstreamFailed(false));
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = ms > 0 ? setTimeout(() => this.upstreamFailed(true), ms) : undefined;
  }

  private fromUpstream(d: Buffer): void {
    if (this.state === 'spliced' || this.state === 'done') return;
    const r = this.parser.execute(d);
    if (typeof r !== 'number') {
      this.upstreamFailed(false);
      return;
    }
    if ((this.state as string) === 'spliced' && r < d.length) this.client.write(d.subarray(r));
  }

  /** The upstream's response head: 101 with the wanted token splices, anything else is relayed. */
  head(status: number, headers: string[]): number {
    if (status < 200 && status !== 101) return 1; // interim: the final answer follows
    if (this.timer !== undefined) clearTimeout(this.timer);
    const token = (rawHeader(headers, 'upgrade') ?? '').trim().toLowerCase();
    if (status === 101 && this.wanted !== '' && token === this.wanted) {
      this.splice(headers);
      return 1;
    }
    this.state = 'relaying';
    this.client.removeListener('data', this.onClientData);
    this.pending = [];
    this.client.write(relayedHead(status, headers));
    if (status === 101) {
      this.close();
      return 1;
    }
    return 0;
  }

  body(chunk: Buffer): void {
    // llhttp's chunk is its own copy (probed), else a view of a read that gets reused
    if (this.state === 'relaying') this.client.write(bodyChunksOwned() ? chunk : Buffer.from(chunk));
  }

  complete(): void {
    if (this.state !== 'relaying') return;
    this.state = 'done';
    this.client.end();
    this.up.destroy();
  }

  private splice(headers: string[]): void {
    this.state = 'spliced';
    let text = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    const client = this.client;
    const up = this.up;
    client.write(`${text}\r\n`);
    client.removeListener('data', this.onClientData);
    for (const b of this.pending) up.write(b);
    this.pending = [];
    up.removeAllListeners('data');
    up.removeAllListeners('end');
    const idle = this.timeouts.idle;
    if (idle > 0) {
      const onIdle = () => this.close();
      up.setTimeout(idle, onIdle);
      (client as Socket).setTimeout?.(idle, onIdle);
    }
    up.pipe(client);
    client.pipe(up);
  }

  private upstreamEnded(): void {
    if (this.state === 'relaying') {
      // a close-delimited body ends here (or the response was cut short: the client sees it end)
      if (this.parser.finish() === undefined) this.complete();
      else this.close();
    } else if (this.state !== 'spliced') this.upstreamFailed(false);
  }

  /** Connect or response failure: 502 / 504 if nothing was answered yet, then close. */
  private upstreamFailed(timeout: boolean): void {
    if (this.state === 'connecting' || this.state === 'waiting') {
      this.state = 'done';
      if (this.client.writable)
        this.client.end(
          timeout
            ? 'HTTP/1.1 504 Gateway Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'
            : 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
        );
      this.up.destroy();
      return;
    }
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const wasDone = this.state === 'done';
    this.state = 'done';
    this.up.destroy();
    if (!wasDone || !this.client.writableEnded) this.client.destroy();
    this.parser.close();
  }
}

/**
 * The head of an upstream's answer that is not the asked-for 101, relayed to the client before the
 * connection closes: its end-to-end headers, and `connection: close`. A 101 for another protocol
 * is not what the client asked for: 502, and nothing is spliced.
 */
function relayedHead(status: number, headers: readonly string[]): string {
  const shown = status === 101 ? 502 : status;
  let text = `HTTP/1.1 ${shown} ${STATUS_CODES[shown] ?? 'Unknown'}\r\n`;
  if (status !== 101)
    for (let i = 0; i < headers.length; i += 2) {
      if (isHopByHopResponseName(headers[i]!)) continue;
      text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
  else text += 'content-length: 0\r\n';
  return `${text}connection: close\r\n\r\n`;
}

/** A fresh connection to the upstream for one tunnel. */
function connectUpstream(upstream: Upstream): Socket {
  const c = upstream.connect;
  return 'path' in c
    ? connect(c.path)
    : c.tls
      ? tlsConnect({ host: c.host, port: c.port, servername: c.host, ...c.tlsOptions?.() })
      : connect(c.port, c.host);
}

/** The upgrade request's headers upstream, flat: forwarding ones, Host, the extras, Connection and Upgrade. */
function tunnelHeaders(
  req: ProxyRequest,
  upstream: Upstream,
  opts: ForwardOptions,
  extra: readonly string[] | undefined,
): string[] {
  const headers = upstreamHeaders(req, opts);
  if (!headers.some((h, i) => i % 2 === 0 && h === 'host'))
    headers.unshift('host', upstream.hostHeader ?? 'localhost');
  if (extra) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
  headers.push('connection', 'upgrade', 'upgrade', rawHeader(req.rawHeaders, 'upgrade') ?? '');
  return headers;
}

/**
 * The tunnel on node:http's client, for a process where the llhttp fast path is not live: the
 * same promises as Tunnel (spliced only on a 101 for the asked-for protocol, any other answer
 * relayed and the connection closed, client bytes held until then, connect + response and idle
 * timeouts), with node:http parsing the upstream's answer.
 */
function nodeHttpTunnel(
  req: ProxyRequest,
  client: Duplex,
  head: Buffer,
  upstream: Upstream,
  opts: ForwardOptions,
  extra: readonly string[] | undefined,
): void {
  const timeouts = upstream.tunnel ?? DEFAULT_TIMEOUTS;
  const wanted = (rawHeader(req.rawHeaders, 'upgrade') ?? '').trim().toLowerCase();
  let pending: Buffer[] = head.length ? [Buffer.from(head)] : [];
  let held = head.length;
  let answered = false;
  const onClientData = (d: Buffer) => {
    pending.push(d);
    held += d.length;
    if (held > 64 * 1024) client.pause(); // resumed by the splice's pipe
  };
  client.on('data', onClientData);
  const r = httpRequest({
    method: req.method,
    path: req.url,
    headers: tunnelHeaders(req, upstream, opts, extra),
    setHost: false,
    createConnection: () => connectUpstream(upstream),
  });
  const fail = (timeout: boolean) => {
    clearTimeout(timer);
    if (!answered && client.writable)
      client.end(
        timeout
          ? 'HTTP/1.1 504 Gateway Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'
          : 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n',
      );
    else client.destroy();
    answered = true;
    r.destroy();
  };
  const wait = timeouts.connect + timeouts.response;
  const timer = setTimeout(() => fail(true), wait > 0 ? wait : 2_147_483_647);
  r.on('error', () => fail(false));
  client.on('error', () => r.destroy());
  client.on('close', () => r.destroy());
  r.on('upgrade', (res: IncomingMessage, up: Socket, upHead: Buffer) => {
    clearTimeout(timer);
    const token = (rawHeader(res.rawHeaders, 'upgrade') ?? '').trim().toLowerCase();
    if (res.statusCode !== 101 || wanted === '' || token !== wanted) {
      up.destroy();
      fail(false);
      return;
    }
    answered = true;
    let text = 'HTTP/1.1 101 Switching Protocols\r\n';
    const h = res.rawHeaders;
    for (let i = 0; i < h.length; i += 2) text += `${h[i]}: ${h[i + 1]}\r\n`;
    client.write(`${text}\r\n`);
    if (upHead.length) client.write(upHead);
    client.removeListener('data', onClientData);
    for (const b of pending) up.write(b);
    pending = [];
    if (timeouts.idle > 0) {
      const onIdle = () => {
        up.destroy();
        client.destroy();
      };
      up.setTimeout(timeouts.idle, onIdle);
      (client as Socket).setTimeout?.(timeouts.idle, onIdle);
    }
    up.on('error', () => client.destroy());
    up.on('close', () => client.destroy());
    up.pipe(client);
    client.pipe(up);
    client.resume();
  });
  r.on('response', (res: IncomingMessage) => {
    clearTimeout(timer);
    answered = true;
    client.removeListener('data', onClientData);
    pending = [];
    client.write(relayedHead(res.statusCode!, res.rawHeaders));
    res.on('data', (d: Buffer) => client.write(d));
    res.on('end', () => {
      client.end();
      r.destroy();
    });
    res.on('error', () => client.destroy());
  });
  r.end();
}
