import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INVALID_TARGET_CHAR, INVALID_VALUE_CHAR, isToken, TCHAR } from './field-syntax.js';

// RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
//                       / "`" / "|" / "~" / DIGIT / ALPHA
const TCHARS = new Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

describe('field syntax', () => {
  it('a token is one or more tchar, exactly as RFC 9110 lists them', () => {
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      expect(isToken(ch), `char ${c}`).toBe(TCHARS.has(ch));
      expect(new RegExp(`^${TCHAR}$`).test(ch)).toBe(TCHARS.has(ch));
    }
    expect(isToken('')).toBe(false);
    expect(isToken('X-API-Key')).toBe(true);
    expect(isToken('a b')).toBe(false);
    expect(isToken('name:')).toBe(false);
  });

  it('tokens of any length (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 20 }), (s) => {
        expect(isToken(s)).toBe(s.length > 0 && [...s].every((ch) => TCHARS.has(ch)));
      }),
    );
  });

  it('field values refuse controls but HTAB, and DEL; obs-text is allowed', () => {
    for (let c = 0; c < 256; c++) {
      const bad = (c < 32 && c !== 9) || c === 127;
      expect(INVALID_VALUE_CHAR.test(`a${String.fromCharCode(c)}b`), `char ${c}`).toBe(bad);
    }
    expect(INVALID_VALUE_CHAR.test('\u0100')).toBe(true);
  });

  it('request targets refuse controls, space and characters beyond latin1', () => {
    expect(INVALID_TARGET_CHAR.test('/a?b=c#d')).toBe(false);
    expect(INVALID_TARGET_CHAR.test('/a b')).toBe(true);
    expect(INVALID_TARGET_CHAR.test('/a\r\n')).toBe(true);
    expect(INVALID_TARGET_CHAR.test('/\u0100')).toBe(true);
  });
});
