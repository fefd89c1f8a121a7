import type { BodySource } from './proxy-contract.js';

/** How the request body is framed on the way upstream. */
export enum BodyFraming {
  None = 0,
  /** the verified Content-Length is written by the proxy and the bytes follow as they are */
  Length = 1,
  /** no length known (HTTP/1.1 chunked or HTTP/2 without content-length): re-chunked */
  Chunked = 2,
}

/**
 * A transport could not take the request in time: its wait queue is full, or the request
 * waited longer than the queue timeout. The proxy answers 503 with Retry-After.
 */
export class PoolBusyError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'PoolBusyError';
  }
}

/**
 * What the proxy decided to send upstream: the same for every transport, which writes it in its
 * own protocol (an HTTP/1.1 head as one string, or HTTP/2 HEADERS).
 */
export interface TransportRequest {
  readonly method: string;
  /** request target as the client sent it (origin form) */
  readonly path: string;
  /**
   * end-to-end headers, flat [name, value, ...] in their original case: hop-by-hop headers and
   * the client's framing removed, Host and forwarding headers added by the proxy
   */
  readonly headers: readonly string[];
  /** more headers from the component's hooks (checked before they are written) */
  readonly extra: readonly string[] | undefined;
  /** Host for a request that came without one (HTTP/1.0) */
  readonly defaultHost: string | undefined;
  readonly body: BodySource | null;
  readonly framing: BodyFraming;
  /** the verified Content-Length, for BodyFraming.Length */
  readonly length: string | undefined;
  /** HEAD: the response has no body whatever its headers say */
  readonly headOnly: boolean;
  /** the request came over HTTP/2: its names and values were never held to HTTP/1.1's syntax */
  readonly fromH2: boolean;
  /** the client asked for trailers (TE: trailers), as gRPC clients do */
  readonly trailers: boolean;
  /**
   * ms the upstream may take for its response head, overriding the transport's default; 0 for
   * none (a gRPC call bounded by its own deadline)
   */
  readonly headersTimeout: number | undefined;
}

/** What a transport hands the request it serves, to steer the exchange. */
export interface TransportControl {
  /** continue reading the upstream response after onResponseData returned false */
  resume(): void;
  /** the client went away: the exchange is dropped upstream (stream reset or connection closed) */
  abort(): void;
}

/**
 * The receiver of one upstream response, after undici's handler (v2) shape. A transport calls
 * onRequestStart when a connection or stream takes the request (possibly again, on a retry),
 * then onResponseStart, any onResponseData, and exactly one of onResponseEnd / onResponseError
 * as the last call (or nothing more after abort()).
 */
export interface TransportHandler {
  /** the client went away while the request waited: do not send it */
  readonly abandoned: boolean;
  onRequestStart(control: TransportControl): void;
  /**
   * The final (>= 200) response head, flat headers in their original case. `complete`: the
   * response ended with its head (no body, no trailers).
   */
  onResponseStart(status: number, headers: string[], complete?: boolean): void;
  /**
   * false: stop reading until resume(). The chunk is the handler's to keep: a transport never
   * reuses it (core's HTTP/1.1 pool hands over llhttp's copies out of its read buffer, HTTP/2
   * DATA arrives in fresh buffers).
   */
  onResponseData(chunk: Buffer): boolean;
  /** everything one upstream read produced has been passed on (a moment to flush output) */
  onReadDone?(): void;
  /** the response is complete; `trailers` (flat) when the upstream sent any */
  onResponseEnd(trailers?: string[]): void;
  /**
   * No (complete) response: timeout, refused, reset. `code` is the HTTP/2 RST_STREAM code when
   * the upstream reset the stream.
   */
  onResponseError(err: Error & { code?: string; rstCode?: number }, timeout: boolean): void;
}

/** One request and the receiver of its response, as one object (no allocation per request). */
export type TransportExchange = TransportRequest & TransportHandler;

/**
 * A way to an upstream: core's keep-alive HTTP/1.1 pool (plain text, unix sockets or TLS), or the
 * HTTP/2 transport (h2c, or TLS by ALPN). The reverse proxy only sees this interface.
 */
export interface Transport {
  request(ex: TransportExchange): void;
  /** Refuses new requests, lets the started ones finish, then resolves. */
  close(): Promise<void>;
}
