import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The proxy's contract with its front ends, the client side of every proxied exchange. Both
 * front ends implement it, so the proxy (reverse-proxy.ts), the policies of the components and
 * the access log see one shape whatever the client speaks:
 * - the lean HTTP/1.1 server (server/http1-request.ts, server/http1-response.ts),
 * - HTTP/2 streams (server/h2-stream.ts: H2Request, H2Response).
 * The upstream side is the Transport (transport.ts). The names follow node:http's where the
 * meaning is the same, so handlers read as node:http handlers do.
 */

/** A request body as the proxy reads it: 'data' / 'end' / 'close' events with flow control. */
export interface BodySource {
  on(event: string, listener: (chunk: Buffer) => void): unknown;
  removeListener(event: string, listener: (chunk: Buffer) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** One client request, as parsed and checked by its front end (request-checks.ts). */
export interface ProxyRequest extends BodySource {
  readonly method: string;
  /** the request target in origin form (an absolute-form target was rewritten by the front end) */
  readonly url: string;
  /** 1 or 2 */
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** flat [name, value, ...] in their original case, as received; HTTP/2 pseudo-headers included */
  readonly rawHeaders: string[];
  /** the headers as an object with node:http's rules for repeated names, built on first use */
  readonly headers: IncomingHttpHeaders;
  /** the client connection (a TLSSocket behind TLS: its peer certificate is the client identity) */
  readonly socket: Socket;
  /**
   * The client said there is no body before any framing header could (HTTP/2: END_STREAM on the
   * HEADERS frame). HTTP/1.x bodies are framed by their headers: always false there.
   */
  readonly bodyless: boolean;
}

/** Response headers: a flat [name, value, ...] list, or an object as node:http takes it. */
export type HeaderInput =
  | readonly string[]
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** How a proxied head goes out. */
export interface ProxiedHeadOptions {
  /** the response ends with its head: no body, no trailers (a gRPC trailers-only answer) */
  readonly complete?: boolean;
  /** the client asked for trailers: keep the message open for them after the body (HTTP/2) */
  readonly trailers?: boolean;
}

/** The answer to one ProxyRequest. */
export interface ProxyResponse {
  readonly headersSent: boolean;
  /** the client connection or stream is gone: nothing more can be written */
  readonly destroyed: boolean;
  /** HTTP/1.x: false closes the connection after this response (drain); HTTP/2 ignores it */
  shouldKeepAlive: boolean;
  /** HTTP/1.1: requests the client pipelined behind this one are already received */
  readonly pipelined?: boolean;
  /**
   * true: write() may hold bytes until flush() or end(), so everything one upstream read gave
   * goes out as one socket write (the lean server); set by the proxy, ignored where it does
   * not apply
   */
  deferFlush: boolean;
  /** a head that promised trailers went out, and endWithTrailers can still send them */
  readonly trailersPending: boolean;
  /** A head of the handler's own (an error, a refusal): framing and connection headers are the front end's. */
  writeHead(status: number, headers?: HeaderInput): unknown;
  /**
   * The upstream's head: `headers` (this response's own array: it may be changed in place) as
   * received, hop-by-hop ones dropped here; then `extra`, the proxy's own.
   */
  writeProxiedHead(
    status: number,
    headers: string[],
    extra: readonly string[] | undefined,
    opts?: ProxiedHeadOptions,
  ): void;
  /**
   * Body bytes; a Buffer given here is never reused by the caller (TransportHandler.onResponseData),
   * so it may be kept without a copy. false: wait for 'drain'.
   */
  write(chunk: Buffer | string): boolean;
  /** Writes what deferFlush held. */
  flush(): void;
  end(chunk?: Buffer | string): unknown;
  /** Ends the body with trailers (flat) where the protocol carries them (HTTP/2); HTTP/1.1 drops them. */
  endWithTrailers(trailers: readonly string[] | undefined): void;
  /** Ends the exchange abnormally: HTTP/2 resets the stream with `code`, HTTP/1.x closes the connection. */
  reset(code: number): void;
  destroy(): void;
  on(event: 'close' | 'drain', listener: () => void): unknown;
}

/** A request handler of a front end: the components' entry point. */
export type ProxyHandlerFn = (req: ProxyRequest, res: ProxyResponse) => void;
