import { describe, expect, it } from 'vitest';
import { effectiveTimeout } from './exporter-server.js';

describe('effectiveTimeout', () => {
  it('keeps the configured timeout unless Prometheus gives up earlier', () => {
    expect(effectiveTimeout(5000, undefined)).toBe(5000);
    expect(effectiveTimeout(5000, '10')).toBe(5000);
    expect(effectiveTimeout(5000, '2')).toBe(1750);
    expect(effectiveTimeout(5000, ['1.5', '9'])).toBe(1250);
    expect(effectiveTimeout(5000, '0.1')).toBe(100);
    for (const bad of ['', 'abc', '-1', '0', 'Infinity']) expect(effectiveTimeout(5000, bad)).toBe(5000);
  });
});
