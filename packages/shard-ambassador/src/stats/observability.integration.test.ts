import { freePort, run, type Service, startRedis } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { RawClient, resp } from '@dds/test-support/shard-ambassador/raw-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
    const check = await run('promtool', ['check', 'metrics'], { input: text });
    // strict: lint findings (exit 3) fail too
    expect(check.stderr + check.stdout).toBe('');
    expect(check.code).toBe(0);
    const hot = (await (await fetch(`${amb.admin}/hotkeys`)).json()) as {
      keys: { key: string; hash: string; hits: number }[];
    };
    expect(hot.keys.map((k) => k.key)).toEqual(['celebrity', 'warm', expect.stringMatching(/^cold:/)]);
    expect(hot.keys[0]!.hits).toBe(500);
    // key names stay on the admin port: the metric carries the keyed hash /hotkeys shows beside them
    const series = [
      ...text.matchAll(/^dds_shard_hot_key_requests_per_second\{pool="cache",key="([^"]*)"\} /gm),
    ];
    expect(series.map((m) => m[1])).toEqual(hot.keys.map((k) => k.hash));
    expect(hot.keys[0]!.hash).toMatch(/^h:[0-9a-f]{16}$/);
    expect(text).not.toMatch(/celebrity|warm|cold:/);

    // names are opt-in (here through the flag's own name under dds:, applied by a reload)
    const pools = {
      cache: {
        listen: `127.0.0.1:${port}`,
        redis: true,
        servers: shards.map((s, i) => `127.0.0.1:${s.port}:1 r${i}`),
      },
    };
    await amb.rewrite({ ...pools, dds: { hotkeysMetricKeys: 'name' } });
    const named = await (await fetch(`${amb.admin}/metrics`)).text();
    expect(named).toMatch(/dds_shard_hot_key_requests_per_second\{pool="cache",key="celebrity"\} \d/);
    await amb.rewrite({ ...pools, dds: { hotkeys: { metricKeys: 'off' } } });
    const off = await (await fetch(`${amb.admin}/metrics`)).text();
    expect(off).not.toMatch(/^dds_shard_hot_key_requests_per_second\{/m);
    const loc = (await (await fetch(`${amb.admin}/locate?pool=cache&key=celebrity`)).json()) as {
      server: string;
    };
    expect(loc.server).toMatch(/^r[01]$/);
  });
});
