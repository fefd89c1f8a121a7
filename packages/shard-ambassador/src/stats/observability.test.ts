import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, run, type Service, startRedis } from '../../../../test/support/index.js';
import { type Ambassador, startAmbassador } from '../testing/ambassador.js';
import { RawClient, resp } from '../testing/raw-client.js';

describe('Prometheus metrics and hot keys on the admin port', () => {
  const shards: Service[] = [];
  let amb: Ambassador;
  let port: number;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) shards.push(await startRedis());
    port = await freePort();
    amb = await startAmbassador(
      {
        cache: {
          listen: `127.0.0.1:${port}`,
          redis: true,
          servers: shards.map((s, i) => `127.0.0.1:${s.port}:1 r${i}`),
        },
      },
      ['--hotkeys-sample', '1', '--hotkeys-top', '3'],
    );
  });
  afterAll(async () => {
    await amb?.stop();
    await Promise.all(shards.map((s) => s.stop()));
  });

  it('per pool / server counters and latency histograms, valid for promtool; the hot key is found', async () => {
    const c = await RawClient.open(port);
    const cmds: Buffer[] = [];
    for (let i = 0; i < 500; i++) cmds.push(resp('GET', 'celebrity'));
    for (let i = 0; i < 100; i++) cmds.push(resp('GET', `cold:${i}`));
    for (let i = 0; i < 50; i++) cmds.push(resp('GET', 'warm'));
    await c.lines(Buffer.concat(cmds), cmds.length);
    c.close();
    const text = await (await fetch(`${amb.admin}/metrics`)).text();
    expect(text).toMatch(/dds_shard_requests_total\{pool="cache",server="r[01]"\} \d+/);
    const total = [...text.matchAll(/dds_shard_requests_total\{pool="cache",server="r[01]"\} (\d+)/g)].reduce(
      (s, m) => s + Number(m[1]),
      0,
    );
    expect(total).toBe(650);
    expect(text).toMatch(
      /dds_shard_request_duration_seconds_bucket\{pool="cache",server="r0",le="\+Inf"\} \d+/,
    );
    expect(text).toMatch(/dds_shard_client_connections_total\{pool="cache"\} 1/);
    expect(text).toMatch(/dds_shard_hot_key_requests_per_second\{pool="cache",key="celebrity"\}/);
    const check = await run('promtool', ['check', 'metrics'], { input: text });
    expect(check.stderr + check.stdout).not.toMatch(/error/i);
    const hot = (await (await fetch(`${amb.admin}/hotkeys`)).json()) as {
      keys: { key: string; hits: number }[];
    };
    expect(hot.keys.map((k) => k.key)).toEqual(['celebrity', 'warm', expect.stringMatching(/^cold:/)]);
    expect(hot.keys[0]!.hits).toBe(500);
    const loc = (await (await fetch(`${amb.admin}/locate?pool=cache&key=celebrity`)).json()) as {
      server: string;
    };
    expect(loc.server).toMatch(/^r[01]$/);
  });
});
