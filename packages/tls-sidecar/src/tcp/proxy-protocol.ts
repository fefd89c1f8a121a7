import { isIPv4, isIPv6 } from 'node:net';

/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) a TCP-mode sidecar
 * sends before the client's bytes, so the app sees the client's address instead of the
 * sidecar's; version 2 also carries what the TLS handshake established.
 */
export interface ProxyHeaderInfo {
  source: { address: string | undefined; port: number | undefined };
  destination: { address: string | undefined; port: number | undefined };
  tls?: {
    /** e.g. TLSv1.3 */
    version: string;
    /** OpenSSL or IANA name of the cipher */
    cipher?: string | undefined;
    /** the server name the client asked for (SNI) */
    sni?: string | undefined;
    /** the client sent a certificate on this connection, or on the session it resumed */
    certificate: 'none' | 'connection' | 'session';
    /** the certificate was verified against the client CA */
    verified: boolean;
    /** subject CN of the verified client certificate */
    cn?: string | undefined;
    /** URI SAN of the verified client certificate (its SPIFFE ID) */
    uri?: string | undefined;
  };
}

/** TLV types: the spec's, and the one dds defines in the custom range (0xE0-0xEF). */
export const PP2 = {
  TYPE_ALPN: 0x01,
  TYPE_AUTHORITY: 0x02,
  TYPE_CRC32C: 0x03,
  TYPE_SSL: 0x20,
  SUBTYPE_SSL_VERSION: 0x21,
  SUBTYPE_SSL_CN: 0x22,
  SUBTYPE_SSL_CIPHER: 0x23,
  CLIENT_SSL: 0x01,
  CLIENT_CERT_CONN: 0x02,
  CLIENT_CERT_SESS: 0x04,
  /** dds: URI SAN (SPIFFE ID) of the verified client certificate, UTF-8 */
  TYPE_DDS_CLIENT_URI: 0xe4,
} as const;

export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** The two endpoints in one family: IPv4 when both are (or map to) IPv4, else IPv6. */
function family(info: ProxyHeaderInfo): { v: 4 | 6; src: string; dst: string } | undefined {
  const src = info.source.address;
  const dst = info.destination.address;
  if (!src || !dst || info.source.port === undefined || info.destination.port === undefined) return undefined;
  const src4 = asV4(src);
  const dst4 = asV4(dst);
  if (src4 && dst4) return { v: 4, src: src4, dst: dst4 };
  const src6 = isIPv6(src) ? src : src4 ? `::ffff:${src4}` : undefined;
  const dst6 = isIPv6(dst) ? dst : dst4 ? `::ffff:${dst4}` : undefined;
  return src6 && dst6 ? { v: 6, src: src6, dst: dst6 } : undefined;
}

function asV4(a: string): string | undefined {
  if (isIPv4(a)) return a;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m && isIPv4(m[1]!) ? m[1] : undefined;
}

/** `PROXY TCP4 1.2.3.4 5.6.7.8 51000 443\r\n` (or `PROXY UNKNOWN\r\n`). */
export function proxyV1(info: ProxyHeaderInfo): Buffer {
  const f = family(info);
  if (!f) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(
    `PROXY TCP${f.v} ${f.src} ${f.dst} ${info.source.port} ${info.destination.port}\r\n`,
    'latin1',
  );
}

/**
 * The binary header: addresses, then TLVs: AUTHORITY (the SNI), SSL (client flags, verify
 * result; sub-TLVs VERSION, CN, CIPHER), dds's client URI, and CRC32C over the whole header
 * (receivers such as HAProxy check it).
 */
export function proxyV2(info: ProxyHeaderInfo): Buffer {
  const f = family(info);
  const tlvs: Buffer[] = [];
  const t = info.tls;
  if (t) {
    if (t.sni) tlvs.push(tlv(PP2.TYPE_AUTHORITY, Buffer.from(t.sni, 'utf8')));
    const sub: Buffer[] = [tlv(PP2.SUBTYPE_SSL_VERSION, Buffer.from(t.version, 'latin1'))];
    if (t.cn !== undefined && t.verified) sub.push(tlv(PP2.SUBTYPE_SSL_CN, Buffer.from(t.cn, 'utf8')));
    if (t.cipher) sub.push(tlv(PP2.SUBTYPE_SSL_CIPHER, Buffer.from(t.cipher, 'latin1')));
    const head = Buffer.alloc(5);
    head[0] =
      PP2.CLIENT_SSL |
      (t.certificate === 'connection' ? PP2.CLIENT_CERT_CONN : 0) |
      (t.certificate === 'session' ? PP2.CLIENT_CERT_SESS : 0);
    // 0: a certificate was presented and verified; anything else: not verified (or none sent)
    head.writeUInt32BE(t.certificate !== 'none' && t.verified ? 0 : 1, 1);
    tlvs.push(tlv(PP2.TYPE_SSL, Buffer.concat([head, ...sub])));
    if (t.uri !== undefined && t.verified)
      tlvs.push(tlv(PP2.TYPE_DDS_CLIENT_URI, Buffer.from(t.uri, 'utf8')));
  }
  const crc = tlv(PP2.TYPE_CRC32C, Buffer.alloc(4));
  tlvs.push(crc);
  const addrLen = f === undefined ? 0 : f.v === 4 ? 12 : 36;
  let tlvLen = 0;
  for (const b of tlvs) tlvLen += b.length;
  if (addrLen + tlvLen > 0xffff) throw new RangeError('PROXY v2 header too long');
  const out = Buffer.alloc(16 + addrLen + tlvLen);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = f === undefined ? 0x00 : f.v === 4 ? 0x11 : 0x21; // AF_UNSPEC or AF_INET/AF_INET6 + STREAM
  out.writeUInt16BE(addrLen + tlvLen, 14);
  let o = 16;
  if (f !== undefined) {
    const sp = info.source.port!;
    const dp = info.destination.port!;
    if (f.v === 4) {
      o = writeV4(out, o, f.src);
      o = writeV4(out, o, f.dst);
    } else {
      o = writeV6(out, o, f.src);
      o = writeV6(out, o, f.dst);
    }
    out.writeUInt16BE(sp, o);
    out.writeUInt16BE(dp, o + 2);
    o += 4;
  }
  for (const b of tlvs) {
    b.copy(out, o);
    o += b.length;
  }
  out.writeUInt32BE(crc32c(out), out.length - 4); // the CRC TLV is last; computed with its value zero
  return out;
}

function tlv(type: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new RangeError('PROXY v2 TLV too long');
  const b = Buffer.alloc(3 + value.length);
  b[0] = type;
  b.writeUInt16BE(value.length, 1);
  value.copy(b, 3);
  return b;
}

function writeV4(out: Buffer, o: number, a: string): number {
  for (const part of a.split('.')) out[o++] = Number(part);
  return o;
}

function writeV6(out: Buffer, o: number, a: string): number {
  ipv6Bytes(a).copy(out, o);
  return o + 16;
}

/** The 16 bytes of an IPv6 address (with :: and a trailing dotted IPv4 part). */
export function ipv6Bytes(a: string): Buffer {
  let text = a;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const words: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const p = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [left, right] = text.split('::') as [string, string | undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const fill = right === undefined ? 0 : 8 - l.length - r.length;
  for (const w of l) words.push(Number.parseInt(w, 16));
  for (let i = 0; i < fill; i++) words.push(0);
  for (const w of r) words.push(Number.parseInt(w, 16));
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(words[i] ?? 0, i * 2);
  return b;
}

let CRC_TABLE: Uint32Array | undefined;

/** CRC32C (Castagnoli), as PP2_TYPE_CRC32C requires. */
export function crc32c(buf: Buffer): number {
  if (CRC_TABLE === undefined) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < buf.length; i++) crc = CRC_TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
