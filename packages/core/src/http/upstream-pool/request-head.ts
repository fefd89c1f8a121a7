import { INVALID_TARGET_CHAR, INVALID_VALUE_CHAR, TOKEN } from '../field-syntax.js';
import { BodyFraming, type TransportExchange, type TransportRequest } from '../transport.js';

// The HTTP/1 parser in front already enforced field syntax on what HTTP/1.1 clients send, so
// only hook-supplied headers and HTTP/2 input are checked here.

/**
 * What both HTTP/1.1 transports (core's pool, undici's) check first: a closed transport, or a
 * request that cannot be written in HTTP/1.1, gets its error here; true when it did.
 */
export function refusedByHttp1(ex: TransportExchange, closed: boolean): boolean {
  if (closed) ex.onResponseError(new Error('upstream pool closed'), false);
  else if (!writableAsHttp1(ex))
    ex.onResponseError(new Error('invalid request header or path for the upstream'), false);
  else return false;
  return true;
}

/** false when a header or the path of the request cannot be written in HTTP/1.1. */
export function writableAsHttp1(r: TransportRequest): boolean {
  if (r.fromH2) {
    if (INVALID_TARGET_CHAR.test(r.path) || !TOKEN.test(r.method)) return false;
    if (!validHeaders(r.headers)) return false;
  }
  return r.extra === undefined || validHeaders(r.extra);
}

/** false when a name is not a token or a value holds control characters. */
export function validHeaders(flat: readonly string[]): boolean {
  for (let i = 0; i < flat.length; i += 2)
    if (!TOKEN.test(flat[i]!) || INVALID_VALUE_CHAR.test(flat[i + 1]!)) return false;
  return true;
}

/**
 * The HTTP/1.1 request line and headers as one string (checked with writableAsHttp1 first),
 * framing written from what the proxy verified.
 */
export function http1Head(r: TransportRequest): string {
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  if (r.defaultHost !== undefined) head += `host: ${r.defaultHost}\r\n`;
  const headers = r.headers;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  const extra = r.extra;
  if (extra) for (let i = 0; i < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`;
  if (r.length !== undefined) head += `content-length: ${r.length}\r\n`;
  else if (r.framing === BodyFraming.Chunked) head += 'transfer-encoding: chunked\r\n';
  return `${head}connection: keep-alive\r\n\r\n`;
}
