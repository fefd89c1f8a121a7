import type { IncomingMessage } from 'node:http';
import { rawHeader } from './llhttp.js';
import { normalizeIp, type TrustedProxies } from './trusted-proxies.js';

/** Headers that describe one connection and never cross a proxy (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
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
 * Builds the upstream request headers as a flat [name, value, ...] array straight from
 * rawHeaders: hop-by-hop headers dropped (kept for upgrades), client forwarding headers kept
 * only from trusted proxies, then X-Forwarded-For/-Proto/-Host (and Forwarded) appended.
 */
export function upstreamHeaders(req: IncomingMessage, opts: ForwardOptions, upgrade = false): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  const peer = normalizeIp(req.socket.remoteAddress ?? '');
  const trustedPeer = opts.trusted.has(peer);
  const connTokens = connectionTokens(rawHeader(raw, 'connection'));
  let xff: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  let fwd: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower.charCodeAt(0) === 58 /* ':' */) {
      if (lower === ':authority') host = value;
      continue;
    }
    if (lower === 'host') host = value;
    if (FORWARDING.has(lower)) {
      if (!trustedPeer) continue;
      if (lower === 'x-forwarded-for') xff = xff ? `${xff}, ${value}` : value;
      else if (lower === 'x-forwarded-proto') xfProto = value;
      else if (lower === 'x-forwarded-host') xfHost = value;
      else fwd = fwd ? `${fwd}, ${value}` : value;
      continue;
    }
    if (HOP_BY_HOP.has(lower) || connTokens?.has(lower)) {
      if (!(upgrade && (lower === 'connection' || lower === 'upgrade'))) continue;
    }
    if (opts.strip?.has(lower)) continue;
    out.push(name, value);
  }
  if (host === undefined && req.httpVersionMajor === 2 && req.headers[':authority'])
    host = String(req.headers[':authority']);
  if (host !== undefined && !out.some((v, i) => i % 2 === 0 && v.toLowerCase() === 'host'))
    out.push('host', host);
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

function connectionTokens(v: string | undefined): Set<string> | undefined {
  if (!v || v === 'keep-alive' || v === 'close') return undefined;
  return new Set(v.split(',').map((t) => t.trim().toLowerCase()));
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
