import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { bufferBudget } from '../buffer-budget.js';
import { rawHeader } from '../llhttp.js';
import type { ProxyRequest } from '../proxy-contract.js';

/** What the request body is doing, for the connection's flow control. */
export interface BodyFlow {
  /** body bytes held (no consumer yet) before the client socket is paused */
  readonly bodyHighWater: number;
  pauseBody(): void;
  resumeBody(): void;
}

// Headers whose duplicates node:http drops (the first wins); cookie joins with "; ", set-cookie
// collects an array, every other name joins with ", ". Same semantics as IncomingMessage.
const FIRST_WINS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * One request read by the lean HTTP/1.1 server, as a ProxyRequest (method, url, rawHeaders,
 * headers built on first use, socket, version). It is its own body source: 'data' / 'end' /
 * 'close' events with pause() / resume(), body slices held until a consumer listens, so a
 * request may wait for an upstream connection.
 */
export class Http1Request extends EventEmitter implements ProxyRequest {
  /** HTTP/1.x bodies are framed by their headers */
  readonly bodyless = false;
  /** true once the whole body has been received */
  complete = false;
  /** the client went away before the body was complete */
  aborted = false;
  /** a status the server answers instead of dispatching (a head the proxy refuses) */
  refusal = 0;
  private parsedHeaders: IncomingHttpHeaders | undefined = undefined;
  private held: Buffer[] | null = null;
  /** bytes in `held`, also counted in the process-wide bufferBudget */
  private heldBytes = 0;
  private flowing = false;
  private endPending = false;
  private dumped = false;
  private closeEmitted = false;

  constructor(
    readonly socket: Socket,
    readonly method: string,
    readonly url: string,
    /** flat [name, value, ...] in their original case */
    readonly rawHeaders: string[],
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    private readonly flow: BodyFlow,
  ) {
    super();
  }

  get httpVersion(): string {
    return `${this.httpVersionMajor}.${this.httpVersionMinor}`;
  }

  get headers(): IncomingHttpHeaders {
    if (this.parsedHeaders === undefined) this.parsedHeaders = headerObject(this.rawHeaders);
    return this.parsedHeaders;
  }

  /** The first value of a header by its lower-case name, without building the header object. */
  header(lower: string): string | undefined {
    return rawHeader(this.rawHeaders, lower);
  }

  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'data' && !this.flowing) this.resume();
    return this;
  }

  pause(): this {
    if (this.flowing) {
      this.flowing = false;
      this.flow.pauseBody();
    }
    return this;
  }

  resume(): this {
    if (this.flowing) return this;
    this.flowing = true;
    if (this.held !== null || this.endPending) process.nextTick(releaseHeld, this);
    else this.flow.resumeBody();
    return this;
  }

  /** The response is complete: the rest of the body is read and dropped. */
  dump(): void {
    this.dumped = true;
    this.dropHeld();
    this.endPending = false;
    this.closed(); // whoever streamed the body stops: it ends unread
  }

  /** A body slice from the parser (it stays valid: it is a slice of a fresh socket read). */
  pushBody(chunk: Buffer): void {
    if (this.dumped) return;
    if (this.flowing && this.held === null) {
      this.emit('data', chunk);
      return;
    }
    if (this.held === null) this.held = [chunk];
    else this.held.push(chunk);
    this.heldBytes += chunk.length;
    bufferBudget.held += chunk.length;
    // no consumer yet (waiting for an upstream connection): hold up to the high-water mark
    if (this.heldBytes >= this.flow.bodyHighWater || bufferBudget.held > bufferBudget.limit)
      this.flow.pauseBody();
  }

  private dropHeld(): void {
    this.held = null;
    bufferBudget.held -= this.heldBytes;
    this.heldBytes = 0;
  }

  /** The body is complete. */
  endBody(): void {
    this.complete = true;
    if (this.dumped) return;
    if (this.flowing && this.held === null) this.emit('end');
    else this.endPending = true;
  }

  /** The connection closed: a body not yet complete was cut short. */
  closed(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    if (this.heldBytes !== 0) this.dropHeld();
    if (!this.complete) this.aborted = true;
    this.emit('close');
  }

  /** @internal */
  releaseHeld(): void {
    const held = this.held;
    this.dropHeld();
    if (held !== null) {
      for (let i = 0; i < held.length; i++) {
        if (!this.flowing) {
          // paused again by a listener: keep the rest
          this.held = held.slice(i).concat(this.held ?? []);
          for (const c of this.held) this.heldBytes += c.length;
          bufferBudget.held += this.heldBytes;
          return;
        }
        this.emit('data', held[i]);
      }
    }
    if (!this.flowing) return;
    if (this.endPending) {
      this.endPending = false;
      this.emit('end');
    }
    // the connection reads on: the rest of this body, or (body complete) the next request
    this.flow.resumeBody();
  }
}

function releaseHeld(req: Http1Request): void {
  req.releaseHeld();
}

/** node:http's header object of flat raw headers (its rules for repeated names). */
export function headerObject(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'set-cookie') (prev as string[]).push(value);
    else if (name === 'cookie') out[name] = `${prev}; ${value}`;
    else if (!FIRST_WINS.has(name)) out[name] = `${prev}, ${value}`;
  }
  return out as IncomingHttpHeaders;
}
