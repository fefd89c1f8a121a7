/**
 * Checks on a request head that both front ends (the lean HTTP/1.1 server and the HTTP/2
 * stream server) run before a handler sees the request, so that what the proxy forwards is
 * exactly what it parsed. Node's strict llhttp already refuses conflicting or malformed framing
 * (CL+TE, duplicate or signed lengths, bad chunking, obs-fold, bare CR/LF); nghttp2 refuses
 * connection-specific headers, malformed pseudo-headers and bad field bytes. What neither does
 * is checked here: Host (RFC 9112 3.2), transfer codings the proxy does not re-encode, and for
 * HTTP/2 the agreement of :authority and host. Each check returns a status (0: acceptable).
 */

import { INVALID_VALUE_CHAR } from './field-syntax.js';

/** A status to refuse a request with; 0 accepts it. */
export type HeadVerdict = 0 | 400 | 405 | 501;

// reg-name / IPv4 / IP-literal characters and an optional port: RFC 3986 authority without userinfo
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{0,5})?$/;
const CHUNKED = /^chunked$/i;
const DIGITS = /^\d+$/;

/** A Host value the proxy will forward: a valid authority (case is kept; compare lower-cased). */
export function validAuthority(v: string): boolean {
  return v.length > 0 && v.length <= 255 && AUTHORITY.test(v);
}

/**
 * HTTP/1.x: exactly one valid Host (HTTP/1.1; at most one for 1.0), a Transfer-Encoding that is
 * exactly `chunked` and only in HTTP/1.1 (other codings -> 501, as nginx answers), at most one
 * Expect, Authorization and Proxy-Authorization (two could be read differently by the proxy's
 * policy and the app, as nginx also refuses), no CONNECT.
 */
export function checkHttp1Head(method: string, raw: readonly string[], minor: number): HeadVerdict {
  let hosts = 0;
  let singles = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const n = name.length;
    if (n === 4) {
      if (name.toLowerCase() !== 'host') continue;
      if (++hosts > 1 || !validAuthority(raw[i + 1]!)) return 400;
    } else if (n === 6 || n === 13 || n === 19) {
      const bit = singleBit(name.toLowerCase());
      if (bit !== 0) {
        if ((singles & bit) !== 0) return 400;
        singles |= bit;
      }
    } else if (n === 17 && name.toLowerCase() === 'transfer-encoding') {
      // llhttp refused a second Transfer-Encoding line, and one where chunked is not last
      if (minor === 0) return 400; // RFC 9112 6.1: faulty framing
      if (!CHUNKED.test(raw[i + 1]!.trim())) return 501;
    }
  }
  if (hosts === 0 && minor === 1) return 400;
  if (method === 'CONNECT') return 405;
  return 0;
}

/** Fields that may appear once (a bit each), or 0. */
function singleBit(lower: string): number {
  return lower === 'expect' ? 1 : lower === 'authorization' ? 2 : lower === 'proxy-authorization' ? 4 : 0;
}

/**
 * An absolute-form target (`GET http://host/path`): the origin-form path to forward, or
 * undefined when the target is not http(s) or its authority disagrees with Host.
 */
export function originForm(url: string, host: string | undefined): string | undefined {
  const m = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(url);
  if (m === null) return undefined;
  const authority = m[1]!;
  if (!validAuthority(authority) || host === undefined || host.toLowerCase() !== authority.toLowerCase())
    return undefined;
  const path = m[2]!;
  return path === '' ? '/' : path[0] === '?' ? `/${path}` : path;
}

/**
 * HTTP/2 (before the request becomes HTTP/1.1 upstream): :method, :scheme and an origin-form
 * :path; :authority and host agree (at least one, at most one host); no connection-specific
 * header (RFC 9113 8.2.2) or TE other than `trailers`; a digits-only content-length; no CR, LF,
 * NUL or other control byte in a value. nghttp2 refuses most of this itself: this is the
 * proxy's own guarantee, independent of the library's options.
 */
export function checkH2Head(raw: readonly string[]): HeadVerdict {
  let authority: string | undefined;
  let host: string | undefined;
  let method: string | undefined;
  let path: string | undefined;
  let scheme = false;
  let length: string | undefined;
  let singles = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (INVALID_VALUE_CHAR.test(value)) return 400; // CR, LF, NUL: never to an HTTP/1.1 upstream
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority') {
        if (authority !== undefined) return 400;
        authority = value;
      } else if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':scheme') scheme = true;
      else if (name !== ':protocol') return 400;
      continue;
    }
    switch (name) {
      case 'host':
        if (host !== undefined) return 400;
        host = value;
        break;
      case 'connection':
      case 'keep-alive':
      case 'proxy-connection':
      case 'transfer-encoding':
      case 'upgrade':
      case 'http2-settings':
        return 400;
      case 'te':
        if (value.trim().toLowerCase() !== 'trailers') return 400;
        break;
      case 'content-length':
        if (!DIGITS.test(value) || (length !== undefined && length !== value)) return 400;
        length = value;
        break;
      case 'expect':
      case 'authorization':
      case 'proxy-authorization': {
        const bit = singleBit(name);
        if ((singles & bit) !== 0) return 400;
        singles |= bit;
        break;
      }
    }
  }
  if (method === 'CONNECT') return 405;
  if (method === undefined || !scheme || path === undefined) return 400;
  if (path[0] !== '/' && !(path === '*' && method === 'OPTIONS')) return 400;
  const a = authority ?? host;
  if (a === undefined || !validAuthority(a)) return 400;
  if (authority !== undefined && host !== undefined && authority.toLowerCase() !== host.toLowerCase())
    return 400;
  return 0;
}

/** The short text body sent with a refusal. */
export function refusalText(status: HeadVerdict): string {
  return status === 405 ? 'method not allowed\n' : status === 501 ? 'not implemented\n' : 'bad request\n';
}
