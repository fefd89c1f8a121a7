import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overrideSignature, overrideTarget } from './override.js';

const byName = new Map([
  ['control', 'C'],
  ['blue', 'B'],
]);
const secret = 'unit-test-override-secret-0123456789';
const signatures = new Map([...byName.keys()].map((n) => [n, overrideSignature(secret, 'checkout', n)]));
const sig = (experiment: string, variant: string) =>
  overrideSignature(secret, experiment, variant).toString('base64url');

describe('overrideTarget', () => {
  it('without a secret: the bare variant name', () => {
    expect(overrideTarget('blue', byName, undefined)).toBe('B');
    expect(overrideTarget('nope', byName, undefined)).toBeUndefined();
  });

  it('with a secret: VARIANT:base64url(HMAC-SHA256(secret, "EXPERIMENT/VARIANT"))', () => {
    expect(overrideTarget(`blue:${sig('checkout', 'blue')}`, byName, signatures)).toBe('B');
    expect(overrideTarget(`control:${sig('checkout', 'control')}=`, byName, signatures)).toBe('C');
    for (const v of [
      'blue',
      `blue:${sig('checkout', 'control')}`,
      `blue:${sig('search', 'blue')}`,
      'blue:',
      ':',
    ])
      expect(overrideTarget(v, byName, signatures), v).toBeUndefined();
  });

  it('no value forces a variant without its signature (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('control', 'blue', 'x'), fc.string(), (name, tail) => {
        const value = `${name}:${tail}`;
        const forced = overrideTarget(value, byName, signatures);
        if (forced !== undefined) expect(Buffer.from(tail, 'base64url')).toEqual(signatures.get(name));
      }),
    );
  });
});
