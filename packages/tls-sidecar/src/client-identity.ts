import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { type CertificateInfo, certificateInfo, rfc4514 } from '@dds/core/tls/certificate-info';
import type { SidecarConfig } from './config.js';

/** Identity headers the sidecar sets; a client's own copies are always removed. */
export const IDENTITY_HEADERS: ReadonlySet<string> = new Set([
  'client-cert',
  'client-cert-chain',
  'x-forwarded-client-cert',
]);

/** What one TLS connection proved about its client, computed once per connection. */
export interface ClientIdentity {
  /** false: requests on this connection are answered 403 (not_allowed) or it is closed */
  allowed: boolean;
  /** why it is not allowed: no_certificate and unverified close the connection */
  reason?: 'no_certificate' | 'unverified' | 'not_allowed';
  /** flat [name, value, ...] identity headers for the upstream, undefined when none */
  headers: string[] | undefined;
  info?: CertificateInfo;
  /** access-record attributes (subject, SPIFFE ID or first SAN), JSON members with leading commas */
  access?: string;
}

export interface ClientPolicy {
  mode: 'none' | 'optional' | 'require';
  allowCn: ReadonlySet<string>;
  allowSan: ReadonlySet<string>;
  certHeader: boolean;
  chainHeader: boolean;
  xfcc: boolean;
}

export function clientPolicy(c: SidecarConfig): ClientPolicy {
  return {
    mode: c.clientAuth,
    allowCn: new Set(c.allowCn),
    allowSan: new Set(c.allowSan),
    certHeader: c.clientCertHeader,
    chainHeader: c.clientCertChainHeader,
    xfcc: c.xfcc,
  };
}

const ANONYMOUS: ClientIdentity = { allowed: true, headers: undefined };

/**
 * Decides whether a verified connection may send requests and builds the identity headers:
 * RFC 9440 Client-Cert (`:base64(DER):`), optionally Client-Cert-Chain and Envoy's
 * X-Forwarded-Client-Cert.
 */
export function identify(socket: TLSSocket, policy: ClientPolicy): ClientIdentity {
  // getPeerCertificate(true) first: once getPeerX509Certificate() has been called on a socket,
  // Node no longer links the issuer chain into the detailed object.
  const detailed = socket.getPeerCertificate(true) as DetailedPeerCertificate | null;
  if (!detailed?.raw) {
    return policy.mode === 'require'
      ? { allowed: false, reason: 'no_certificate', headers: undefined }
      : ANONYMOUS;
  }
  if (!socket.authorized) return { allowed: false, reason: 'unverified', headers: undefined };
  const leaf = new X509Certificate(detailed.raw);
  const info = certificateInfo(leaf);
  const access = accessAttributes(info);
  if (!isAllowed(info, policy))
    return { allowed: false, reason: 'not_allowed', headers: undefined, info, access };
  const headers: string[] = [];
  if (policy.certHeader) headers.push('client-cert', sfBinary(leaf.raw));
  if (policy.chainHeader) {
    const chain = intermediates(detailed);
    if (chain.length) headers.push('client-cert-chain', chain.map(sfBinary).join(', '));
  }
  if (policy.xfcc) headers.push('x-forwarded-client-cert', xfcc(info));
  return { allowed: true, headers: headers.length ? headers : undefined, info, access };
}

/** `tls.client.subject` (RFC 4514) and `dds.client.id`: the URI SAN (SPIFFE ID), else DNS SAN, else CN. */
function accessAttributes(info: CertificateInfo): string {
  const id = info.uri[0] ?? info.dns[0] ?? info.commonName;
  let out = `,"tls.client.subject":${JSON.stringify(rfc4514(info.subject))}`;
  if (id !== undefined) out += `,"dds.client.id":${JSON.stringify(id)}`;
  return out;
}

export function isAllowed(info: CertificateInfo, policy: ClientPolicy): boolean {
  if (policy.allowCn.size === 0 && policy.allowSan.size === 0) return true;
  if (info.commonName !== undefined && policy.allowCn.has(info.commonName)) return true;
  for (const list of [info.dns, info.uri, info.ip, info.email])
    for (const v of list) if (policy.allowSan.has(v)) return true;
  return false;
}

/** RFC 8941 byte sequence. */
const sfBinary = (der: Buffer): string => `:${der.toString('base64')}:`;

/**
 * DER of the certificates between the leaf and the trust anchor, as verification built the
 * chain (Node exposes the verified chain, not the exact list the client sent); the
 * self-signed root is left out, as RFC 9440 suggests.
 */
function intermediates(leaf: DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  let cert: DetailedPeerCertificate | undefined = leaf;
  const seen = new Set<DetailedPeerCertificate>();
  while (cert && !seen.has(cert)) {
    seen.add(cert);
    const issuer: DetailedPeerCertificate | undefined = cert.issuerCertificate;
    if (!issuer || issuer === cert || issuer.fingerprint256 === cert.fingerprint256) break;
    // the issuer of the last hop is the root when it signs itself
    const selfSigned = !issuer.issuerCertificate || issuer.issuerCertificate === issuer;
    if (!selfSigned) out.push(issuer.raw);
    cert = issuer;
  }
  return out;
}

/** Envoy's X-Forwarded-Client-Cert element: Hash, Subject, URI (first) and DNS (each). */
export function xfcc(info: CertificateInfo): string {
  const parts = [`Hash=${info.sha256}`, `Subject=${quote(rfc4514(info.subject))}`];
  if (info.uri[0] !== undefined) parts.push(`URI=${quoteIfNeeded(info.uri[0])}`);
  for (const d of info.dns) parts.push(`DNS=${quoteIfNeeded(d)}`);
  return parts.join(';');
}

const quote = (v: string): string => `"${v.replace(/["\\]/g, '\\$&')}"`;
const quoteIfNeeded = (v: string): string => (/[,;="\\]/.test(v) ? quote(v) : v);
