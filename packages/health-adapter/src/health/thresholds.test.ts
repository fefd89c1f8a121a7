import { describe, expect, it } from 'vitest';
import { Thresholds } from './thresholds.js';

describe('Thresholds (kubelet successThreshold / failureThreshold)', () => {
  it('starts failing and passes after successThreshold successes in a row', () => {
    const t = new Thresholds(2, 3);
    expect(t.passing).toBe(false);
    expect(t.record(true)).toBe(false);
    expect(t.record(false)).toBe(false);
    expect(t.record(true)).toBe(false);
    expect(t.record(true)).toBe(true);
    expect(t.passing).toBe(true);
  });

  it('fails only after failureThreshold failures in a row; a success resets the count', () => {
    const t = new Thresholds(1, 3);
    t.record(true);
    t.record(false);
    t.record(false);
    t.record(true);
    t.record(false);
    t.record(false);
    expect(t.passing).toBe(true);
    expect(t.consecutiveFailures).toBe(2);
    expect(t.record(false)).toBe(true);
    expect(t.passing).toBe(false);
    expect(t.record(false)).toBe(false);
    expect(t.consecutiveFailures).toBe(4);
  });
});
