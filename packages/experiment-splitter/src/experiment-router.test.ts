import { describe, expect, it } from 'vitest';
import { ExperimentRouter, hostOnly } from './experiment-router.js';

describe('ExperimentRouter', () => {
  const r = new ExperimentRouter([
    { hosts: [], prefix: '/', target: 'site' },
    { hosts: [], prefix: '/checkout', target: 'checkout' },
    { hosts: ['Shop.example.com'], prefix: '/', target: 'shop' },
    { hosts: ['shop.example.com'], prefix: '/api/', target: 'shop-api' },
  ]);

  it('prefers the host routes, longest prefix first, then the any-host routes', () => {
    expect(r.match('shop.example.com', '/api/cart')).toBe('shop-api');
    expect(r.match('SHOP.example.com:8443', '/x')).toBe('shop');
    expect(r.match('other.example.com', '/checkout/pay')).toBe('checkout');
    expect(r.match(undefined, '/')).toBe('site');
  });

  it('returns undefined when nothing matches', () => {
    const only = new ExperimentRouter([{ hosts: ['a.test'], prefix: '/x', target: 1 }]);
    expect(only.match('a.test', '/y')).toBeUndefined();
    expect(only.match('b.test', '/x')).toBeUndefined();
  });

  it('strips ports and brackets hosts', () => {
    expect(hostOnly('Example.COM:80')).toBe('example.com');
    expect(hostOnly('[::1]:8080')).toBe('[::1]');
    expect(hostOnly('localhost')).toBe('localhost');
  });
});
