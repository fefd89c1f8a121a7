import { createLogger, Registry } from '@dds/core';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { checkSchema, type ResolvedCheck } from '../checks/check-spec.js';
import { CheckFailure, type Probe } from '../checks/probe.js';
import { CheckMetrics } from './check-metrics.js';
import { CheckRunner } from './check-runner.js';

const check = (over: Partial<ResolvedCheck> = {}): ResolvedCheck =>
  ({
    ...checkSchema.parse({ name: 'dep', type: 'tcp', address: '127.0.0.1:1' }),
    interval: 100,
    timeout: 50,
    successThreshold: 1,
    failureThreshold: 2,
    critical: true,
    ...over,
  }) as ResolvedCheck;

// The scheduler's own rules, driven by scripted probes (every real probe has its own
// real-server tests): timeouts that the probe ignores, thresholds, no overlapping runs.
describe('CheckRunner', () => {
  const setup = (probe: Probe, c = check()) => {
    const registry = new Registry();
    let changes = 0;
    const runner = new CheckRunner(
      c,
      new CheckMetrics(registry),
      createLogger('t', 'silent'),
      () => changes++,
      probe,
    );
    return { runner, registry, changes: () => changes };
  };

  it('a probe that never settles still fails at the timeout, and the next run starts on time', async () => {
    let started = 0;
    const { runner } = setup({
      componentType: 'component',
      run: () => {
        started++;
        return new Promise(() => {});
      },
    });
    const t0 = Date.now();
    await runner.runOnce();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(runner.state).toMatchObject({
      status: 'fail',
      output: 'timed out after 50ms',
      consecutiveFailures: 1,
    });
    expect(started).toBe(1);
  });

  it('successThreshold 2: a first success is pending, not a failure, and is confirmed within a second', async () => {
    let runs = 0;
    const { runner } = setup(
      {
        componentType: 'system',
        run: async () => {
          runs++;
          return 'exit 0';
        },
      },
      check({ interval: 30_000, successThreshold: 2 }),
    );
    await runner.runOnce();
    expect(runner.state).toMatchObject({
      status: 'fail',
      output: '1 of 2 consecutive successes needed: exit 0',
      consecutiveFailures: 0,
    });
    runner.start();
    try {
      // the 30 s interval would keep it failing until then; the confirming run comes at once
      await vi.waitFor(() => expect(runner.state.status).toBe('pass'), { timeout: 5000, interval: 20 });
    } finally {
      runner.stop();
    }
    expect(runner.state.output).toBe('exit 0');
    expect(runs).toBeGreaterThanOrEqual(2);
  });

  it('pass -> warn below failureThreshold -> fail at it -> pass again', async () => {
    const script = [true, false, false, true];
    const { runner, registry, changes } = setup({
      componentType: 'datastore',
      run: async () => {
        if (script.shift()) return 'fine';
        throw new CheckFailure('connect', 'connect ECONNREFUSED 127.0.0.1:1');
      },
    });
    expect(runner.state.status).toBe('fail');
    expect(runner.state.output).toBe('not run yet');
    await runner.runOnce();
    expect(runner.state).toMatchObject({ status: 'pass', output: 'fine' });
    await runner.runOnce();
    expect(runner.state).toMatchObject({ status: 'warn', output: 'connect ECONNREFUSED 127.0.0.1:1' });
    await runner.runOnce();
    expect(runner.state).toMatchObject({ status: 'fail', consecutiveFailures: 2 });
    await runner.runOnce();
    expect(runner.state.status).toBe('pass');
    expect(changes()).toBe(4);
    const m = await registry.metrics();
    expect(m).toContain('dds_health_check_failures_total{check="dep",type="tcp",reason="connect"} 2');
    expect(m).toContain('dds_health_check_runs_total{check="dep",type="tcp"} 4');
    expect(m).toContain('dds_health_check_up{check="dep",type="tcp",critical="true"} 1');
  });

  it('never runs a check twice at once; stop() ends the loop and removes its series', async () => {
    // on a fake clock: the time that passes is exact, no wait is a guess
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const { runner, registry } = setup(
      {
        componentType: 'component',
        run: async () => {
          running++;
          runs++;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((r) => setTimeout(r, 30));
          running--;
          return 'ok';
        },
      },
      check({ interval: 100, timeout: 1000 }),
    );
    runner.start();
    await vi.advanceTimersByTimeAsync(450);
    runner.stop();
    const after = runs;
    await vi.advanceTimersByTimeAsync(250);
    expect(maxRunning).toBe(1);
    expect(after).toBeGreaterThanOrEqual(2);
    expect(after).toBeLessThanOrEqual(6);
    expect(runs).toBe(after);
    expect(await registry.metrics()).not.toContain('check="dep"');
  });

  it('a replacement runner (settings changed on reload) keeps a passing verdict until its own runs decide', async () => {
    const ok: Probe = { componentType: 'component', run: async () => 'fine' };
    const down: Probe = {
      componentType: 'component',
      run: async () => {
        throw new CheckFailure('connect', 'refused');
      },
    };
    const old = setup(ok).runner;
    await old.runOnce();
    const { runner, registry } = setup(down, check({ timeout: 80 }));
    runner.carryOver(old);
    expect(runner.state).toMatchObject({ status: 'pass', output: 'fine' });
    expect(await registry.metrics()).toContain(
      'dds_health_check_up{check="dep",type="tcp",critical="true"} 1',
    );
    await runner.runOnce();
    expect(runner.state.status).toBe('warn');
    await runner.runOnce();
    expect(runner.state.status).toBe('fail');
    // a failing verdict is not carried over: the new settings must prove themselves
    const fresh = setup(ok).runner;
    fresh.carryOver(runner);
    expect(fresh.state.status).toBe('fail');
  });
});
