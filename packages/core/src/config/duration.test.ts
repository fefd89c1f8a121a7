import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../net/host-port.js';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads units and bare milliseconds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('42')).toBe(42);
    expect(parseDuration(7)).toBe(7);
    for (const bad of ['', 's', '-1s', '1y', '1 s s', 'NaN']) expect(parseDuration(bad)).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });

  it('round-trips through formatDuration', () => {
    fc.assert(fc.property(fc.nat(10_000_000), (ms) => parseDuration(formatDuration(ms)) === ms));
  });
});

describe('parseAddress', () => {
  it('reads tcp, ipv6 and unix forms', () => {
    expect(parseAddress('127.0.0.1:80')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 80 });
    expect(parseAddress(':8080')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 8080 });
    expect(parseAddress('[::1]:9000')).toEqual({ kind: 'tcp', host: '::1', port: 9000 });
    expect(parseAddress('/run/x.sock')).toEqual({ kind: 'unix', path: '/run/x.sock' });
    expect(parseAddress('unix:/run/y.sock')).toEqual({ kind: 'unix', path: '/run/y.sock' });
    expect(parseAddress('host')).toMatch(/host:port/);
    expect(parseAddress('h:99999')).toMatch(/0-65535/);
    expect(parseAddress('h:abc')).toMatch(/number/);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.string(),
        (s) => typeof parseAddress(s) === 'string' || typeof parseAddress(s) === 'object',
      ),
    );
  });
});
