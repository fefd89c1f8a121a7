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

/** The pool's wait queue is full, or a request waited longer than the queue timeout: 503. */
export class PoolBusyError extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'PoolBusyError';
  }
}
