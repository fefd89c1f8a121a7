import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { isHopByHopResponseName } from '../forward-headers.js';
import type { HeaderInput, ProxiedHeadOptions, ProxyResponse } from '../proxy-contract.js';
import { httpDate } from './http-date.js';
import type { Http1Request } from './http1-request.js';
import type { PreparedResponse } from './prepared-response.js';

/** What a response tells its connection. */
export interface ResponseOwner {
  readonly socket: Socket;
  readonly closed: boolean;
  /** requests already parsed and waiting behind the one being answered (pipelining) */
  readonly waiting: number;
  /** the response is complete: the connection may read the next request, or close */
  responseDone(res: Http1Response, keepAlive: boolean): void;
  destroy(): void;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Output kept as one latin1 string up to this size, then written. */
const FLUSH_AT = 64 * 1024;

/**
 * One response of the lean HTTP/1.1 server, with the part of ServerResponse that dds uses
 * (writeHead, write, end, headersSent, destroyed, shouldKeepAlive, 'close' / 'drain'). The head
 * and body accumulate in one string and go out as one socket write: at end(), or at flush() when
 * the proxy has passed on everything one upstream read gave it (`deferFlush`), so a small proxied
 * response is a single write instead of head, body and terminator writes.
 */
export class Http1Response extends EventEmitter implements ProxyResponse {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  /** set false to close the connection after this response */
  shouldKeepAlive: boolean;
  /** write only on flush() or end() (the proxy flushes after each upstream read) */
  deferFlush = false;
  private out = '';
  private chunked = false;
  private noBody: boolean;
  private finished = false;

  constructor(
    private readonly owner: ResponseOwner,
    readonly req: Http1Request,
    keepAlive: boolean,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
    this.noBody = req.method === 'HEAD';
  }

  get socket(): Socket {
    return this.owner.socket;
  }

  get destroyed(): boolean {
    return this.owner.closed;
  }

  /** more requests of this connection were received and wait behind this one */
  get pipelined(): boolean {
    return this.owner.waiting > 0;
  }

  get writableNeedDrain(): boolean {
    return this.owner.socket.writableNeedDrain;
  }

  /**
   * Status line and headers. Framing and connection headers are ours: Content-Length is kept,
   * without it the body is chunked (HTTP/1.1) or ends with the connection (HTTP/1.0).
   */
  writeHead(status: number, headers?: HeaderInput, _unused?: unknown): this {
    if (this.headersSent) return this;
    this.statusCode = status;
    const flat =
      headers === undefined
        ? []
        : Array.isArray(headers)
          ? (headers as readonly string[])
          : flatten(headers as Record<string, string | number | readonly string[] | undefined>);
    this.startHead(status, flat, undefined, false);
    return this;
  }

  /** The proxy's head: upstream headers minus hop-by-hop ones, plus the proxy's extras. */
  writeProxiedHead(
    status: number,
    headers: readonly string[],
    extra: readonly string[] | undefined,
    opts?: ProxiedHeadOptions,
  ): void {
    this.statusCode = status;
    this.startHead(status, headers, extra, true);
    if (opts?.complete === true) this.end();
  }

  /** HTTP/1.1 carries no trailers here (the proxy drops them): the body just ends. */
  endWithTrailers(_trailers: readonly string[] | undefined): void {
    this.end();
  }

  /** No trailers are ever promised on HTTP/1.1. */
  get trailersPending(): boolean {
    return false;
  }

  /** An exchange that cannot end well: the connection closes (HTTP/1.1 has no stream reset). */
  reset(_code: number): void {
    this.destroy();
  }

  private startHead(
    status: number,
    headers: readonly string[],
    extra: readonly string[] | undefined,
    skipHopByHop: boolean,
  ): void {
    this.headersSent = true;
    if (status === 204 || status === 304 || status < 200) this.noBody = true;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let length = false;
    let date = false;
    let chunkedAsked = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const n = name.length;
      if (n === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (n === 4 && name.toLowerCase() === 'date') date = true;
      else if (skipHopByHop ? isHopByHopResponseName(name) : isFramingName(name)) {
        if (!skipHopByHop && n === 17 && name.toLowerCase() === 'transfer-encoding') chunkedAsked = true;
        if (
          !skipHopByHop &&
          n === 10 &&
          name.toLowerCase() === 'connection' &&
          /close/i.test(headers[i + 1]!)
        )
          this.shouldKeepAlive = false;
        continue;
      }
      head += `${name}: ${headers[i + 1]}\r\n`;
    }
    if (extra !== undefined)
      for (let i = 0; i < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`;
    if (!date) head += `date: ${httpDate()}\r\n`;
    const http11 = this.req.httpVersionMinor === 1 && this.req.httpVersionMajor === 1;
    if (!this.noBody && (!length || chunkedAsked)) {
      if (http11) {
        this.chunked = true;
        head += 'transfer-encoding: chunked\r\n';
      } else this.shouldKeepAlive = false; // HTTP/1.0: the body ends with the connection
    }
    if (!this.shouldKeepAlive) head += 'connection: close\r\n';
    else if (!http11) head += 'connection: keep-alive\r\n';
    this.out = `${head}\r\n`;
  }

  /** Body bytes; the chunk is copied, so the caller may reuse its buffer. */
  write(chunk: Buffer | string): boolean {
    if (this.finished) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    if (!this.noBody && chunk.length > 0) {
      const data =
        typeof chunk !== 'string'
          ? chunk.toString('latin1')
          : NON_ASCII.test(chunk)
            ? Buffer.from(chunk).toString('latin1')
            : chunk;
      this.out += this.chunked ? `${data.length.toString(16)}\r\n${data}\r\n` : data;
    }
    if (!this.deferFlush || this.out.length >= FLUSH_AT) this.flush();
    // false: wait for 'drain', which the connection passes on from its socket
    return !this.owner.socket.writableNeedDrain;
  }

  end(chunk?: Buffer | string): this {
    if (this.finished) return this;
    if (chunk !== undefined) this.write(chunk);
    else if (!this.headersSent) this.writeHead(this.statusCode);
    this.finished = true;
    this.writableEnded = true;
    if (this.chunked) this.out += '0\r\n\r\n';
    this.flush();
    this.owner.responseDone(this, this.shouldKeepAlive);
    return this;
  }

  /** The whole response from prepared bytes, as one write; nothing may have been written before. */
  endPrepared(p: PreparedResponse): this {
    if (this.headersSent) throw new Error('endPrepared after the head was written');
    this.headersSent = true;
    this.statusCode = p.status;
    this.finished = true;
    this.writableEnded = true;
    const http11 = this.req.httpVersionMinor === 1 && this.req.httpVersionMajor === 1;
    if (!this.owner.closed) this.owner.socket.write(p.bytes(this.noBody, this.shouldKeepAlive, http11));
    this.owner.responseDone(this, this.shouldKeepAlive);
    return this;
  }

  /** Writes what has accumulated, as one socket write. */
  flush(): void {
    const out = this.out;
    if (out.length === 0) return;
    this.out = '';
    if (!this.owner.closed) this.owner.socket.write(out, 'latin1');
  }

  destroy(): void {
    this.finished = true;
    this.owner.destroy();
  }

  /** The connection closed (or the response completed): listeners learn once. */
  closed(): void {
    this.finished = true;
    this.emit('close');
  }
}

function isFramingName(name: string): boolean {
  const n = name.length;
  return (
    (n === 17 && name.toLowerCase() === 'transfer-encoding') ||
    (n === 10 && name.toLowerCase() === 'connection') ||
    (n === 10 && name.toLowerCase() === 'keep-alive')
  );
}

/** Headers given as an object (node:http's form), as a flat [name, value, ...] list. */
export function flatten(h: Record<string, string | number | readonly string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(h)) {
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, String(x));
    else out.push(name, String(v));
  }
  return out;
}
