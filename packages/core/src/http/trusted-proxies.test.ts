import { describe, expect, it } from 'vitest';
import { TrustedProxies } from './trusted-proxies.js';

describe('TrustedProxies', () => {
  it('believes X-Forwarded-For only from trusted peers', () => {
    const none = new TrustedProxies([]);
    expect(none.clientAddress('10.0.0.5', '1.2.3.4')).toBe('10.0.0.5');
    const t = new TrustedProxies(['10.0.0.0/8', '::1']);
    expect(t.clientAddress('10.0.0.5', '1.2.3.4')).toBe('1.2.3.4');
    expect(t.clientAddress('::ffff:10.0.0.5', '1.2.3.4, 10.1.1.1')).toBe('1.2.3.4');
    expect(t.clientAddress('::1', ['9.9.9.9', '5.6.7.8'])).toBe('5.6.7.8');
    expect(t.clientAddress('192.168.1.1', '1.2.3.4')).toBe('192.168.1.1');
    expect(t.clientAddress('10.0.0.5', 'garbage')).toBe('10.0.0.5');
    expect(t.clientAddress('10.0.0.5', '10.0.0.9, 10.0.0.8')).toBe('10.0.0.9');
  });

  it('validates CIDR lists', () => {
    expect(TrustedProxies.validate(['10.0.0.0/8', '::1', 'fd00::/8'])).toBeUndefined();
    expect(TrustedProxies.validate(['10.0.0.0/33'])).toMatch(/prefix/);
    expect(TrustedProxies.validate(['example.com'])).toMatch(/not an IP/);
  });
});
