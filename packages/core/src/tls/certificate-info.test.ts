import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dnField, parseSubjectAltName, rfc4514, splitPem } from './certificate-info.js';

describe('parseSubjectAltName', () => {
  it('splits the kinds Node prints', () => {
    expect(
      parseSubjectAltName(
        'DNS:a.example, DNS:*.b.example, URI:spiffe://dds/a, IP Address:10.0.0.1, IP Address:::1, email:x@y.z',
      ),
    ).toEqual({
      dns: ['a.example', '*.b.example'],
      uri: ['spiffe://dds/a'],
      ip: ['10.0.0.1', '::1'],
      email: ['x@y.z'],
    });
  });

  it('reads JSON-quoted values that contain the separator', () => {
    expect(parseSubjectAltName('URI:"http://x/a, b", DNS:c.example').uri).toEqual(['http://x/a, b']);
    expect(parseSubjectAltName('URI:"http://x/a, b", DNS:c.example').dns).toEqual(['c.example']);
  });

  it('empty or missing input gives empty lists', () => {
    expect(parseSubjectAltName(undefined)).toEqual({ dns: [], uri: [], ip: [], email: [] });
    expect(parseSubjectAltName('')).toEqual({ dns: [], uri: [], ip: [], email: [] });
    // an unterminated quote (found by the fuzz test below) is kept as text, not thrown on
    expect(parseSubjectAltName('DNS:"unterminated').dns).toEqual(['"unterminated']);
  });

  it('never throws on arbitrary text (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = parseSubjectAltName(s);
        expect(Array.isArray(r.dns)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips generated SAN lists (property)', () => {
    const value = fc.stringMatching(/^[a-z0-9.:/*@-]{1,30}$/);
    const entry = fc.tuple(fc.constantFrom('DNS', 'URI', 'IP Address', 'email'), value);
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
        const text = entries.map(([k, v]) => `${k}:${v}`).join(', ');
        const r = parseSubjectAltName(text);
        const pick = (k: string) => entries.filter(([x]) => x === k).map(([, v]) => v);
        expect(r).toEqual({
          dns: pick('DNS'),
          uri: pick('URI'),
          ip: pick('IP Address'),
          email: pick('email'),
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('distinguished names', () => {
  it('rfc4514 reverses Node order and escapes specials', () => {
    expect(rfc4514('O=dds test\nCN=client-a')).toBe('CN=client-a,O=dds test');
    expect(rfc4514('O=a,b\nCN=c+d')).toBe('CN=c\\+d,O=a\\,b');
  });

  it('dnField finds the first value of an attribute', () => {
    expect(dnField('C=DE\nO=x\nCN=svc', 'CN')).toBe('svc');
    expect(dnField('C=DE\nO=x', 'CN')).toBeUndefined();
  });

  it('splitPem returns every certificate block', () => {
    const block = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    expect(splitPem(`junk\n${block}\n${block}\n`)).toHaveLength(2);
    expect(splitPem('no pem here')).toEqual([]);
  });
});
