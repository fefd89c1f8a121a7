import type { ProxyRequest } from './proxy-contract.js';
import { normalizeIp, type TrustedProxies } from './trusted-proxies.js';

/** Headers that describe one connection and never cross a proxy (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'http2-settings',
]);
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);

export interface ForwardOptions {
  trusted: TrustedProxies;
  proto: 'http' | 'https';
  /** also send RFC 7239 Forwarded */
  forwarded: boolean;
  /** lower-cased names a client may not send (e.g. identity headers the proxy sets) */
  strip?: ReadonlySet<string>;
}

/**
 * What upstreamHeaders read from the client's framing and Host, for the caller to write its own
 * framing from. One object reused by every call (the call is synchronous): no allocation.
 */
export const clientFraming = {
  /** the Content-Length the front end's parser verified, without leading zeros */
  contentLength: undefined as string | undefined,
  /** the client sent Transfer-Encoding (HTTP/1.1: exactly `chunked`, checked by the front end) */
  chunked: false,
  /** the Host (or :authority) the request came with */
  host: undefined as string | undefined,
};

/**
 * Builds the upstream request headers as a flat [name, value, ...] array straight from
 * rawHeaders. The proxy owns framing and trust headers: the client's Content-Length,
 * Transfer-Encoding and Host are never copied (clientFraming reports them, and the caller writes
 * framing from what was parsed); hop-by-hop headers and every header named in any Connection line
 * are dropped; client forwarding headers are kept only from trusted proxies, then
 * Host, X-Forwarded-For/-Proto/-Host (and Forwarded) are appended, after the Connection filter,
 * so no token can remove them. HTTP/2 cookie fields are joined into one (RFC 9113 8.2.3).
 */
export function upstreamHeaders(
  req: Pick<ProxyRequest, 'rawHeaders' | 'socket' | 'httpVersionMajor'>,
  opts: ForwardOptions,
): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  const peer = normalizeIp(req.socket.remoteAddress ?? '');
  const trustedPeer = opts.trusted.has(peer);
  const h2 = req.httpVersionMajor === 2;
  let tokens: Set<string> | undefined;
  let xff: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  let fwd: string | undefined;
  let host: string | undefined;
  let cookie: string | undefined;
  let contentLength: string | undefined;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    switch (lower) {
      case ':authority':
        host ??= value;
        continue;
      case 'host':
        host = value;
        continue;
      case 'content-length':
        contentLength = value;
        continue;
      case 'transfer-encoding':
        chunked = true;
        continue;
      case 'connection':
        tokens = connectionTokens(value, tokens);
        continue;
      case 'cookie':
        if (h2) {
          cookie = cookie === undefined ? value : `${cookie}; ${value}`;
          continue;
        }
        break;
    }
    if (lower.charCodeAt(0) === 58 /* ':' */) continue;
    if (FORWARDING.has(lower)) {
      if (!trustedPeer) continue;
      if (lower === 'x-forwarded-for') xff = xff ? `${xff}, ${value}` : value;
      else if (lower === 'x-forwarded-proto') xfProto = value;
      else if (lower === 'x-forwarded-host') xfHost = value;
      else fwd = fwd ? `${fwd}, ${value}` : value;
      continue;
    }
    if (HOP_BY_HOP.has(lower)) continue;
    if (opts.strip?.has(lower)) continue;
    out.push(name, value);
  }
  if (tokens !== undefined) dropNominated(out, tokens);
  if (cookie !== undefined) out.push('cookie', cookie);
  clientFraming.contentLength =
    contentLength !== undefined && contentLength.length > 1 && contentLength.charCodeAt(0) === 48
      ? contentLength.replace(/^0+(?=\d)/, '')
      : contentLength?.trim();
  clientFraming.chunked = chunked;
  clientFraming.host = host;
  if (host !== undefined) out.push('host', host);
  out.push('x-forwarded-for', xff ? `${xff}, ${peer}` : peer);
  out.push('x-forwarded-proto', xfProto ?? opts.proto);
  if (xfHost ?? host) out.push('x-forwarded-host', (xfHost ?? host)!);
  if (opts.forwarded) {
    const forNode = peer.includes(':') ? `"[${peer}]"` : peer;
    const hostPart = host ? `;host="${host.replace(/"/g, '')}"` : '';
    const me = `for=${forNode};proto=${opts.proto}${hostPart}`;
    out.push('forwarded', fwd ? `${fwd}, ${me}` : me);
  }
  return out;
}

/** Adds the header names a Connection line nominates (beyond keep-alive / close) to `into`. */
function connectionTokens(v: string, into: Set<string> | undefined): Set<string> | undefined {
  if (v.length <= 10) {
    const l = v.toLowerCase();
    if (l === 'keep-alive' || l === 'close') return into;
  }
  const set = into ?? new Set<string>();
  for (const t of v.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '' && name !== 'keep-alive' && name !== 'close') set.add(name);
  }
  return set.size === 0 ? into : set;
}

/** Removes the nominated headers from the client's passthrough headers, in place. */
function dropNominated(out: string[], tokens: ReadonlySet<string>): void {
  let n = 0;
  for (let i = 0; i < out.length; i += 2) {
    if (tokens.has(out[i]!.toLowerCase())) continue;
    out[n++] = out[i]!;
    out[n++] = out[i + 1]!;
  }
  out.length = n;
}

/** Response header names dropped on the way back to the client. */
export function isHopByHopResponse(lower: string): boolean {
  return (
    lower === 'connection' ||
    lower === 'keep-alive' ||
    lower === 'transfer-encoding' ||
    lower === 'proxy-connection' ||
    lower === 'upgrade' ||
    lower === 'trailer'
  );
}

/** isHopByHopResponse for a name in any case; lower-cases only names of a hop-by-hop length. */
export function isHopByHopResponseName(name: string): boolean {
  const n = name.length;
  if (n !== 7 && n !== 10 && n !== 16 && n !== 17) return false;
  return isHopByHopResponse(name.toLowerCase());
}

/**
 * A proxied response's head: the upstream's headers without the hop-by-hop ones (compacted in
 * place: the array is the response's own), then the component's extra headers.
 */
export function proxiedResponseHeaders(headers: string[], extra: readonly string[] | undefined): string[] {
  let n = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (isHopByHopResponseName(name)) continue;
    headers[n++] = name;
    headers[n++] = headers[i + 1]!;
  }
  headers.length = n;
  if (extra) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
  return headers;
}
