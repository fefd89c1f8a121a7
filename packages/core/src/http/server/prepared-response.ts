import { STATUS_CODES } from 'node:http';
import { httpDate } from './http-date.js';

/** The framing of one answer: HEAD or not, keep-alive or close, HTTP/1.1 or 1.0. */
const HEAD = 1;
const CLOSE = 2;
const HTTP10 = 4;

/**
 * A response fixed in advance (a health answer, a canned error): status, headers and body do not
 * depend on the request. Its bytes are built once per Date second and framing variant and then
 * written as they are, so serving it allocates nothing on the response side, where a writeHead +
 * end pair builds a head string and copies the body each time (a probe storm is all small,
 * identical answers; what it allocates is what the young-generation GC must sweep).
 */
export class PreparedResponse {
  private readonly common: string;
  private readonly variants: (Buffer | undefined)[] = [];
  private date = '';

  /**
   * `headers`: a flat [name, value, ...] list without framing headers: Content-Length, Date and
   * Connection are written here.
   */
  constructor(
    readonly status: number,
    readonly headers: readonly string[],
    readonly body: Buffer,
  ) {
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase();
      if (
        name === 'content-length' ||
        name === 'date' ||
        name === 'connection' ||
        name === 'transfer-encoding'
      )
        throw new TypeError(`a prepared response sets ${name} itself`);
      head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    this.common = `${head}content-length: ${body.length}\r\n`;
  }

  /** The whole answer for this request's framing, current to the second. */
  bytes(head: boolean, keepAlive: boolean, http11: boolean): Buffer {
    const date = httpDate();
    if (date !== this.date) {
      this.date = date;
      this.variants.length = 0;
    }
    const v = (head ? HEAD : 0) | (keepAlive ? 0 : CLOSE) | (http11 ? 0 : HTTP10);
    let out = this.variants[v];
    if (out === undefined) {
      const connection = !keepAlive ? 'connection: close\r\n' : http11 ? '' : 'connection: keep-alive\r\n';
      const top = Buffer.from(`${this.common}date: ${date}\r\n${connection}\r\n`, 'latin1');
      out = head ? top : Buffer.concat([top, this.body]);
      this.variants[v] = out;
    }
    return out;
  }
}
