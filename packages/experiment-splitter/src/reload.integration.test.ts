import { writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { run, tempDir } from '@dds/test-support';
import {
  demoApp,
  get,
  metric,
  pool,
  type Running,
  splitter,
  stopAll,
} from '@dds/test-support/experiment-splitter/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, bucketTable, saltSeed, weightToBuckets } from './bucketing.js';

afterAll(stopAll);

const yaml = (control: string, exp: string, checkoutPercent: number | string) => `
defaultBackend: ${control}
reloadInterval: 100ms
experiments:
  - name: checkout
    hosts: [shop.test]
    pathPrefix: /echo
    salt: checkout-salt
    key: header:x-user
    variants:
      - { name: control, backend: "${control}" }
      - { name: treatment, backend: "${exp}", weight: ${checkoutPercent} }
  - name: search
    pathPrefix: /status
    salt: search-salt
    variants:
      - { name: control, backend: "${control}" }
      - { name: fast, backend: "${exp}", weight: 50 }
`;

const inCheckout = (user: string, percent: number) =>
  bucketTable([0, weightToBuckets(percent)], 0)[bucketOf(user, saltSeed('checkout-salt'))] === 1;

describe('YAML config: several experiments, hot reload', () => {
  let control: Running;
  let exp: Running;
  let s: Awaited<ReturnType<typeof splitter>>;
  const dir = tempDir('splitter-reload');
  const file = join(dir, 'splitter.yaml');
  const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
  const checkout = (u: string) => get(`${s.url}/echo?cart`, { host: 'shop.test', 'x-user': u });

  beforeAll(async () => {
    [control, exp] = await Promise.all([demoApp('control'), demoApp('experiment')]);
    writeFileSync(file, yaml(control.url, exp.url, 10));
    s = await splitter(['--config', file]);
  });

  it('selects the experiment by host and path prefix; others go to the default backend', async () => {
    const echo = async (path: string, host: string) =>
      JSON.parse((await get(`${s.url}${path}`, { host, 'x-user': 'u1' })).body).headers;
    expect((await echo('/echo', 'shop.test'))['x-dds-experiment']).toBe('checkout');
    const search = await get(`${s.url}/status/201`, { host: 'other.test', cookie: 'dds_uid=u1' });
    expect(search.status).toBe(201);
    expect(
      await metric(
        s.admin,
        /^dds_experiment_requests_total\{experiment="search",variant="(control|fast)"\} 1$/,
      ),
    ).toBe(1);
    // checkout only on shop.test; unmatched requests reach the default backend untouched
    const other = await get(`${s.url}/echo`, { host: 'other.test' });
    expect(other.servedBy).toBe('control');
    expect(JSON.parse(other.body).headers['x-dds-experiment']).toBeUndefined();
    expect(await metric(s.admin, /^dds_experiment_unmatched_requests_total /)).toBe(1);
  });

  it('ramps 10% -> 20% on reload keeping every user already in, without dropping a keep-alive connection', async () => {
    const before = await pool(users, 16, async (u) => (await checkout(u)).servedBy);
    expect(before).toEqual(users.map((u) => (inCheckout(u, 10) ? 'experiment' : 'control')));

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const viaAgent = () =>
      new Promise<{ port: number; served: string }>((resolve, reject) => {
        const req = httpRequest(
          `${s.url}/echo`,
          { agent, headers: { host: 'shop.test', 'x-user': 'ka' } },
          (res) => {
            const port = res.socket.localPort!;
            res.resume();
            res.on('end', () => resolve({ port, served: String(res.headers['x-served-by']) }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const first = await viaAgent();

    writeFileSync(file, yaml(control.url, exp.url, 20));
    await s.proc.waitFor('configuration reloaded', 10_000);
    const second = await viaAgent();
    expect(second.port).toBe(first.port); // same TCP connection across the reload
    agent.destroy();

    const after = await pool(users, 16, async (u) => (await checkout(u)).servedBy);
    const firstTen = users.filter((_, i) => before[i] === 'experiment');
    expect(firstTen.length).toBeGreaterThan(60);
    expect(firstTen.every((u) => after[users.indexOf(u)] === 'experiment')).toBe(true);
    expect(after).toEqual(users.map((u) => (inCheckout(u, 20) ? 'experiment' : 'control')));
  });

  it('rejects an invalid reload naming the field, and the previous config keeps serving', async () => {
    writeFileSync(file, yaml(control.url, exp.url, 130));
    await s.proc.waitFor(/configuration rejected/, 10_000);
    expect(s.proc.stdout() + s.proc.stderr()).toMatch(
      /experiments\.0\.variants\.1\.weight: must be at most 100/,
    );
    const after = await pool(users.slice(0, 200), 16, async (u) => (await checkout(u)).servedBy);
    expect(after).toEqual(users.slice(0, 200).map((u) => (inCheckout(u, 20) ? 'experiment' : 'control')));
  });
});

describe('invalid configuration at start', () => {
  it('exits 2 and names the field', async () => {
    const dir = tempDir('splitter-bad');
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `experiments:
  - name: checkout
    variants:
      - { name: control, backend: "http://127.0.0.1:1" }
      - { name: a, backend: "http://127.0.0.1:2", weight: -3 }
`,
    );
    const bin = join(process.cwd(), 'packages/experiment-splitter/dist/main.js');
    const bad = await run(process.execPath, [bin, '--config', file, '--admin', 'off']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/experiments\.0\.variants\.1\.weight: must not be negative/);
    const flagsOnly = await run(process.execPath, [bin, '--control', 'http://127.0.0.1:1', '--admin', 'off']);
    expect(flagsOnly.code).toBe(2);
    expect(flagsOnly.stderr).toMatch(/experiment: required with --control/);
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--percent PCT .*\(default 10\) \[env DDS_PERCENT\]/);
  });
});
