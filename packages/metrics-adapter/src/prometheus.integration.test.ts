import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  type Proc,
  run,
  type Service,
  sleep,
  start,
  startMemcached,
  startRedis,
  tempDir,
  waitForHttp,
} from '@dds/test-support';
import { type Adapter, startAdapter } from '@dds/test-support/metrics-adapter/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus (Debian package, 2.42) scraping the adapter: it negotiates OpenMetrics, so
 * this proves the exposition is accepted and that compat names arrive unchanged as series.
 */
describe('scraped by a real Prometheus server', () => {
  let redis: Service;
  let memcached: Service;
  let adapters: Adapter[] = [];
  let prometheus: Proc;
  let api: string;

  const query = async (q: string): Promise<Series[]> => {
    const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { data: { result: Series[] } };
    return body.data.result;
  };
  const eventually = async (q: string, ok: (s: Series[]) => boolean): Promise<Series[]> => {
    let last: Series[] = [];
    for (let i = 0; i < 100; i++) {
      last = await query(q);
      if (ok(last)) return last;
      await sleep(200);
    }
    throw new Error(`${q}: ${JSON.stringify(last)}`);
  };

  beforeAll(async () => {
    [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
    await run('redis-cli', ['-p', String(redis.port), 'MSET', 'a', '1', 'b', '2']);
    await run('redis-cli', ['-p', String(redis.port), '-n', '3', 'SET', 'c', '3']);
    adapters = await Promise.all([
      startAdapter('redis', ['--redis', `redis://127.0.0.1:${redis.port}`]),
      startAdapter('memcached', ['--memcached', `127.0.0.1:${memcached.port}`]),
    ]);
    const dir = tempDir('prometheus');
    const port = await freePort();
    const target = (a: Adapter) => a.url.replace('http://', '');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: redis
    static_configs: [{ targets: ['${target(adapters[0]!)}'] }]
  - job_name: memcached
    static_configs: [{ targets: ['${target(adapters[1]!)}'] }]
`,
    );
    prometheus = start('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    api = `http://127.0.0.1:${port}`;
    await waitForHttp(`${api}/-/ready`, 200, 30_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.kill('SIGKILL');
    await Promise.all(adapters.map((a) => a.stop()));
    await Promise.all([redis?.stop(), memcached?.stop()]);
  });

  it('ingests the scrapes with the exporters names, labels and no scrape errors', async () => {
    await eventually('up', (s) => s.length === 2 && s.every((x) => x.value[1] === '1'));
    const keys = await eventually('redis_db_keys', (s) => s.length === 2);
    expect(keys.map((k) => `${k.metric.db}=${k.value[1]}`).sort()).toEqual(['db0=2', 'db3=1']);
    await eventually('redis_up', (s) => s[0]?.value[1] === '1');
    const cmds = await eventually('redis_commands_total{cmd="info"}', (s) => s.length === 1);
    expect(cmds[0]!.metric).toMatchObject({ __name__: 'redis_commands_total', cmd: 'info', job: 'redis' });
    // a compat counter without _total keeps its name through OpenMetrics
    await eventually('memcached_uptime_seconds', (s) => s.length === 1);
    await eventually('memcached_commands_total{command="get",status="hit"}', (s) => s.length === 1);
    await eventually('redis_total_error_replies', (s) => s.length === 1);
    const health = await query('scrape_samples_scraped');
    expect(health.length).toBe(2);
    for (const s of health) expect(Number(s.value[1])).toBeGreaterThan(40);
    // the OpenMetrics exposition was negotiated: its metadata reports the `unknown` type declared there
    const meta = (await (
      await fetch(`${api}/api/v1/targets/metadata?metric=memcached_uptime_seconds`)
    ).json()) as {
      data: Array<{ type: string }>;
    };
    expect(meta.data[0]?.type).toBe('unknown');
    expect(prometheus.stdout() + prometheus.stderr()).not.toMatch(
      /level=(warn|error).*(append|scrape|parse)/i,
    );
  });
});
