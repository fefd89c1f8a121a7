import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32c,
  ipv6Bytes,
  PP2,
  type ProxyHeaderInfo,
  proxyV1,
  proxyV2,
  V2_SIGNATURE,
} from './proxy-protocol.js';

/** A reader of the v2 layout written from the spec, independent of the encoder. */
function decodeV2(b: Buffer) {
  expect(b.subarray(0, 12).equals(V2_SIGNATURE)).toBe(true);
  expect(b[12]).toBe(0x21);
  const fam = b[13]!;
  const len = b.readUInt16BE(14);
  expect(b.length).toBe(16 + len);
  let o = 16;
  let src = '';
  let dst = '';
  let sport = 0;
  let dport = 0;
  const v6 = (at: number) => {
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(at + i * 2).toString(16));
    return words.join(':');
  };
  if (fam === 0x11) {
    src = [...b.subarray(16, 20)].join('.');
    dst = [...b.subarray(20, 24)].join('.');
    sport = b.readUInt16BE(24);
    dport = b.readUInt16BE(26);
    o = 28;
  } else if (fam === 0x21) {
    src = v6(16);
    dst = v6(32);
    sport = b.readUInt16BE(48);
    dport = b.readUInt16BE(50);
    o = 52;
  } else expect(fam).toBe(0x00);
  const tlvs = new Map<number, Buffer>();
  while (o < b.length) {
    const type = b[o]!;
    const l = b.readUInt16BE(o + 1);
    tlvs.set(type, b.subarray(o + 3, o + 3 + l));
    o += 3 + l;
  }
  expect(o).toBe(b.length);
  const crc = tlvs.get(PP2.TYPE_CRC32C)!;
  const zeroed = Buffer.from(b);
  zeroed.fill(0, b.length - 4);
  expect(crc.readUInt32BE(0)).toBe(crc32c(zeroed));
  return { fam, src, dst, sport, dport, tlvs };
}

const canonical6 = (a: string) =>
  [...ipv6Bytes(a)]
    .reduce<string[]>((w, byte, i) => {
      if (i % 2 === 0) w.push('');
      w[w.length - 1] += byte.toString(16).padStart(2, '0');
      return w;
    }, [])
    .map((w) => Number.parseInt(w, 16).toString(16))
    .join(':');

describe('PROXY protocol', () => {
  it('CRC32C matches the Castagnoli check value', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('v1: TCP4 for IPv4 and mapped addresses, TCP6 otherwise, UNKNOWN without addresses', () => {
    const info = (s: string, d: string): ProxyHeaderInfo => ({
      source: { address: s, port: 51000 },
      destination: { address: d, port: 8443 },
    });
    expect(proxyV1(info('::ffff:10.0.0.1', '127.0.0.1')).toString()).toBe(
      'PROXY TCP4 10.0.0.1 127.0.0.1 51000 8443\r\n',
    );
    expect(proxyV1(info('2001:db8::1', '::1')).toString()).toBe('PROXY TCP6 2001:db8::1 ::1 51000 8443\r\n');
    expect(proxyV1(info('2001:db8::1', '10.0.0.2')).toString()).toBe(
      'PROXY TCP6 2001:db8::1 ::ffff:10.0.0.2 51000 8443\r\n',
    );
    expect(
      proxyV1({
        source: { address: undefined, port: undefined },
        destination: info('', '').destination,
      }).toString(),
    ).toBe('PROXY UNKNOWN\r\n');
  });

  it('ipv6Bytes reads every textual form of an address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        const url = new URL(`http://[${a}]/`).hostname.slice(1, -1); // Node's own compressed form
        expect(canonical6(a)).toBe(canonical6(url));
        expect(ipv6Bytes(a)).toHaveLength(16);
      }),
    );
    expect(canonical6('::ffff:1.2.3.4')).toBe('0:0:0:0:0:ffff:102:304');
    expect(canonical6('fe80::1%eth0')).toBe('fe80:0:0:0:0:0:0:1');
  });

  it('v2: addresses, TLS and identity TLVs and the checksum decode to what went in', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
    const ascii = fc.stringMatching(/^[A-Z0-9_-]{1,30}$/);
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.option(
          fc.record({
            version: fc.constantFrom('TLSv1.2', 'TLSv1.3'),
            cipher: fc.option(ascii, { nil: undefined }),
            sni: fc.option(text, { nil: undefined }),
            certificate: fc.constantFrom('none', 'connection', 'session'),
            verified: fc.boolean(),
            cn: fc.option(text, { nil: undefined }),
            uri: fc.option(text, { nil: undefined }),
          }),
          { nil: undefined },
        ),
        (src, dst, sport, dport, tls) => {
          const info: ProxyHeaderInfo = {
            source: { address: src, port: sport },
            destination: { address: dst, port: dport },
            ...(tls ? { tls: tls as ProxyHeaderInfo['tls'] } : {}),
          };
          const d = decodeV2(proxyV2(info));
          const both4 = !src.includes(':') && !dst.includes(':');
          expect(d.fam).toBe(both4 ? 0x11 : 0x21);
          if (both4) expect([d.src, d.dst]).toEqual([src, dst]);
          else {
            const as6 = (a: string) => canonical6(a.includes(':') ? a : `::ffff:${a}`);
            expect([d.src, d.dst]).toEqual([as6(src), as6(dst)]);
          }
          expect([d.sport, d.dport]).toEqual([sport, dport]);
          if (!tls) {
            expect([...d.tlvs.keys()]).toEqual([PP2.TYPE_CRC32C]);
            return;
          }
          expect(d.tlvs.get(PP2.TYPE_AUTHORITY)?.toString('utf8')).toBe(tls.sni || undefined);
          const ssl = d.tlvs.get(PP2.TYPE_SSL)!;
          const client = ssl[0]!;
          expect(client & PP2.CLIENT_SSL).toBe(PP2.CLIENT_SSL);
          expect(Boolean(client & PP2.CLIENT_CERT_CONN)).toBe(tls.certificate === 'connection');
          expect(Boolean(client & PP2.CLIENT_CERT_SESS)).toBe(tls.certificate === 'session');
          expect(ssl.readUInt32BE(1) === 0).toBe(tls.certificate !== 'none' && tls.verified);
          const sub = new Map<number, string>();
          for (let o = 5; o < ssl.length; ) {
            const l = ssl.readUInt16BE(o + 1);
            sub.set(ssl[o]!, ssl.subarray(o + 3, o + 3 + l).toString('utf8'));
            o += 3 + l;
          }
          expect(sub.get(PP2.SUBTYPE_SSL_VERSION)).toBe(tls.version);
          expect(sub.get(PP2.SUBTYPE_SSL_CIPHER)).toBe(tls.cipher || undefined);
          // identity only when it was verified
          expect(sub.get(PP2.SUBTYPE_SSL_CN)).toBe(tls.verified ? tls.cn : undefined);
          expect(d.tlvs.get(PP2.TYPE_DDS_CLIENT_URI)?.toString('utf8')).toBe(
            tls.verified ? tls.uri : undefined,
          );
        },
      ),
    );
  });
});
