import { describe, expect, it } from 'vitest';
import { stopGate } from './stop-gate.js';

describe('stopGate', () => {
  it('drains on the first signal and exits on the second', () => {
    const gate = stopGate();
    expect(gate('signal')).toBe('drain');
    expect(gate('signal')).toBe('exit');
  });

  it('a signal during a stop the component asked for joins its drain; a second signal exits', () => {
    const gate = stopGate();
    expect(gate('request')).toBe('drain');
    expect(gate('signal')).toBe('joined');
    expect(gate('request')).toBe('joined');
    expect(gate('signal')).toBe('exit');
  });

  it('a request during a signalled drain joins it', () => {
    const gate = stopGate();
    expect(gate('signal')).toBe('drain');
    expect(gate('request')).toBe('joined');
    expect(gate('signal')).toBe('exit');
  });
});
