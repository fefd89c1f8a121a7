import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep, tempDir } from '@dds/test-support';
import {
  adminJson,
  demoApp,
  get,
  metric,
  pool,
  quickSplitter,
  type Running,
  splitter,
  stopAll,
} from '@dds/test-support/experiment-splitter/harness';
import { arrivedAt } from '@dds/test-support/lifecycle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

afterAll(stopAll);

const ADMIN_TOKEN = 'guard-reset-token-0123456789abcdef';

describe('a down experiment backend', () => {
  let control: Running;
  let deadUrl: string;

  beforeAll(async () => {
    control = await demoApp('control');
    deadUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens here
  });

  it('gives 502 with a short body and counts the upstream error', async () => {
    const s = await splitter(['--control', control.url, '--experiment', deadUrl, '--percent', '100']);
    const r = await get(`${s.url}/`, { cookie: 'dds_uid=someone' });
    expect(r.status).toBe(502);
    expect(r.body).toBe('upstream unavailable\n');
    expect(
      await metric(
        s.admin,
        /^dds_experiment_upstream_errors_total\{experiment="experiment",variant="experiment",kind="upstream_error"\}/,
      ),
    ).toBe(1);
    await s.proc.kill();
  });

  it('with --fallback-to-control serves the users from control instead', async () => {
    const s = await splitter([
      '--control',
      control.url,
      '--experiment',
      deadUrl,
      '--percent',
      '100',
      '--fallback-to-control',
    ]);
    const users = Array.from({ length: 20 }, (_, i) => `fb${i}`);
    const replies = await pool(users, 4, (u) => get(`${s.url}/echo`, { cookie: `dds_uid=${u}` }));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.servedBy).toBe('control');
      expect(JSON.parse(r.body).headers['x-dds-variant']).toBe('control');
    }
    // the first failure marks the backend down for the cooldown; later users skip it at once
    expect(
      await metric(
        s.admin,
        /^dds_experiment_fallbacks_total\{experiment="experiment",variant="experiment"\}/,
      ),
    ).toBe(20);
    const errors = await metric(
      s.admin,
      /^dds_experiment_upstream_errors_total\{experiment="experiment",variant="experiment",kind="upstream_error"\}/,
    );
    expect(errors).toBeGreaterThanOrEqual(1);
    expect(errors).toBeLessThan(20);
    const [e] = (
      await adminJson<{ experiments: Array<{ variants: Array<{ backendDown: boolean }> }> }>(s.admin)
    ).experiments;
    expect(e!.variants[1]!.backendDown).toBe(true);
    await s.proc.kill();
  });
});

describe('the guard', () => {
  it('trips when the experiment backend fails, sends its users back to control, and can be reset', async () => {
    const [control, failing] = await Promise.all([
      demoApp('control'),
      demoApp('experiment', ['--fail-rate', '1']),
    ]);
    const tokenFile = join(tempDir('splitter-token'), 'admin-token');
    writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`);
    const s = await quickSplitter(control, failing, [
      '--admin-token-file',
      tokenFile,
      '--percent',
      '50',
      '--guard',
      '--guard-min-samples',
      '30',
      '--guard-error-margin',
      '0.1',
      '--guard-window',
      '5s',
    ]);
    const users = Array.from({ length: 400 }, (_, i) => `g${i}`);
    const first = await pool(users, 8, (u) => get(`${s.url}/`, { cookie: `dds_uid=${u}` }));
    expect(first.some((r) => r.status === 500 && r.servedBy === 'experiment')).toBe(true);
    // the guard judges once per tick (<= 1s)
    let tripped: string[] = [];
    for (let i = 0; i < 40 && !tripped.length; i++) {
      await sleep(100);
      tripped = (await adminJson(s.admin)).experiments[0]!.guard.tripped;
    }
    expect(tripped).toEqual(['experiment']);
    await s.proc.waitFor(/guard tripped: experiment\/experiment is worse than control \(error_rate\)/);
    expect(
      await metric(
        s.admin,
        /^dds_experiment_guard_trips_total\{experiment="experiment",variant="experiment"\}/,
      ),
    ).toBe(1);

    const after = await pool(users, 8, (u) => get(`${s.url}/`, { cookie: `dds_uid=${u}` }));
    expect(after.every((r) => r.status === 200 && r.servedBy === 'control')).toBe(true);
    const view = (await adminJson(s.admin)).experiments[0]!;
    expect(view.variants.map((v) => [v.name, v.assignedPercent, v.tripped])).toEqual([
      ['control', 100, false],
      ['experiment', 0, true],
    ]);

    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const reset = await fetch(`${s.admin}/experiments/experiment/reset`, { method: 'POST', headers: auth });
    expect(reset.status).toBe(200);
    const again = await pool(users.slice(0, 100), 8, (u) => get(`${s.url}/`, { cookie: `dds_uid=${u}` }));
    expect(again.some((r) => r.servedBy === 'experiment')).toBe(true);
    expect((await fetch(`${s.admin}/experiments/nope/reset`, { method: 'POST', headers: auth })).status).toBe(
      404,
    );
  }, 60_000);

  it('trips on p99 when the experiment backend is slow', async () => {
    const [control, slow] = await Promise.all([
      demoApp('control'),
      demoApp('experiment', ['--delay', '200ms']),
    ]);
    const s = await quickSplitter(control, slow, [
      '--percent',
      '50',
      '--guard',
      '--guard-min-samples',
      '30',
      '--guard-p99-margin',
      '1',
      '--guard-window',
      '5s',
    ]);
    const users = Array.from({ length: 200 }, (_, i) => `p${i}`);
    await pool(users, 16, (u) => get(`${s.url}/`, { cookie: `dds_uid=${u}` }));
    await s.proc.waitFor(/guard tripped: experiment\/experiment is worse than control \(p99\)/, 5000);
    const after = await pool(users.slice(0, 50), 8, (u) => get(`${s.url}/`, { cookie: `dds_uid=${u}` }));
    expect(after.every((r) => r.servedBy === 'control')).toBe(true);
  });

  it('does not trip while the experiment is as healthy as control', async () => {
    const [control, healthy] = await Promise.all([demoApp('control'), demoApp('experiment')]);
    const s = await quickSplitter(control, healthy, [
      '--percent',
      '50',
      '--guard',
      '--guard-min-samples',
      '30',
      '--guard-window',
      '5s',
    ]);
    const users = Array.from({ length: 300 }, (_, i) => `ok${i}`);
    await pool(users, 8, (u) => get(`${s.url}/status/200`, { cookie: `dds_uid=${u}` }));
    await sleep(1500);
    const view = (await adminJson(s.admin)).experiments[0]!;
    expect(view.variants[1]!.window.requests).toBeGreaterThan(30);
    expect(view.guard.tripped).toEqual([]);
    expect(
      await metric(
        s.admin,
        /^dds_experiment_guard_trips_total\{experiment="experiment",variant="experiment"\}/,
      ),
    ).toBe(0);
  });
});

describe('SIGTERM', () => {
  it('drains: an in-flight request completes on its kept-alive connection, then the process exits 0', async () => {
    const control = await demoApp('control');
    const experiment = await demoApp('experiment');
    const s = await quickSplitter(control, experiment, ['--shutdown-delay', '0s']);
    const slow = get(`${s.url}/slow?ms=800`, { cookie: 'uid=drain-1' });
    // in flight: one of the two backends has it
    await Promise.any([arrivedAt(control.url, '/slow'), arrivedAt(experiment.url, '/slow')]);
    s.proc.child.kill('SIGTERM');
    const r = await slow;
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close'); // answered while draining: the client moves on
    expect(await s.proc.exited).toBe(0);
  });
});
