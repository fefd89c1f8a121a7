/** How the request body is framed on the way upstream. */
export enum BodyFraming {
  None = 0,
  /** the verified Content-Length is written by the proxy and the bytes follow as they are */
  Length = 1,
  /** no length known (HTTP/1.1 chunked or HTTP/2 without content-length): re-chunked */
  Chunked = 2,
}

/** A request body as the pool reads it: a Readable, or the lean server's request itself. */
export interface BodySource {
  on(event: string, listener: (chunk: Buffer) => void): unknown;
  removeListener(event: string, listener: (chunk: Buffer) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The control a connection hands to the request it serves. */
export interface ExchangeControl {
  /** continue reading the upstream response after back-pressure */
  resume(): void;
  /** the client went away: the connection is closed, nothing more is reported */
  abort(): void;
}

/**
 * One request to an upstream and the receiver of its response. The connection calls exactly
 * one of onEnd / onFail as the last call (or none after abort()).
 */
export interface UpstreamExchange {
  /** request line and headers, ending with the empty line */
  readonly head: string;
  readonly body: BodySource | null;
  readonly framing: BodyFraming;
  /** BodyFraming.Length: the bytes the head declares (a body that disagrees closes the connection) */
  readonly bodyLength: number;
  /** HEAD: the response has no body whatever its headers say */
  readonly headOnly: boolean;
  /** the client went away while the request waited for a connection: do not send it */
  readonly abandoned: boolean;
  /** called when a connection takes the request (possibly again, on a retry) */
  attach(control: ExchangeControl): void;
  /** the final (>= 200) response head, headers in their original case */
  onHead(status: number, headers: string[]): void;
  /**
   * false: stop reading until resume(). The chunk is only valid during the call (it is a view
   * of the connection's reused read buffer): copy what is kept.
   */
  onBody(chunk: Buffer): boolean;
  /** everything one upstream read produced has been passed on (a moment to flush output) */
  readDone?(): void;
  onEnd(): void;
  onFail(timeout: boolean, err: Error): void;
}

/** The pool's wait queue is full, or a request waited longer than the queue timeout: 503. */
export class PoolBusyError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'PoolBusyError';
  }
}
