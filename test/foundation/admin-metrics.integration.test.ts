// Every component's admin /metrics passes `promtool check metrics` strictly: exit 0 and no
// finding at all (lint findings exit 3 and are failures here too), after some traffic so that the
// labelled series exist, under --workers (the aggregated registry) and in dds-pod.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePorts,
  type Proc,
  run,
  type Service,
  selfSignedCert,
  startComponent,
  startMemcached,
  startRedis,
  tempDir,
  waitForHttp,
} from '@dds/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const procs: Proc[] = [];
const services: Service[] = [];
let app = '';
let redis: Service;
let memcached: Service;
const dir = tempDir('admin-metrics');

beforeAll(async () => {
  const [port] = (await freePorts(1)) as [number];
  const p = startComponent('demo-app', ['--listen', `127.0.0.1:${port}`, '--admin', 'off']);
  procs.push(p);
  app = `http://127.0.0.1:${port}`;
  await waitForHttp(`${app}/status`);
  redis = await startRedis();
  memcached = await startMemcached();
  services.push(redis, memcached);
});
afterAll(async () => {
  await Promise.all([...procs.map((p) => p.kill('SIGKILL')), ...services.map((s) => s.stop())]);
});

const PORT = '<port>';

interface Case {
  args: () => string[];
  /** a request that makes the component's own series appear (to its listen port) */
  traffic?: (port: number) => Promise<unknown>;
}

const get = (url: string, init?: RequestInit) => fetch(url, init).then((r) => r.arrayBuffer());

const cases: Record<string, Case> = {
  'demo-app': {
    args: () => ['--listen', `127.0.0.1:${PORT}`],
    traffic: (p) => get(`http://127.0.0.1:${p}/`),
  },
  'tls-sidecar': {
    args: () => {
      const c = selfSignedCert();
      return ['--cert', c.cert, '--key', c.key, '--upstream', app, '--listen', `127.0.0.1:${PORT}`];
    },
  },
  'rate-limiter': {
    args: () => ['--upstream', app, '--rate', '2/s', '--listen', `127.0.0.1:${PORT}`],
    traffic: async (p) => {
      for (let i = 0; i < 5; i++) await get(`http://127.0.0.1:${p}/`); // admitted and denied
    },
  },
  'experiment-splitter': {
    args: () => ['--control', app, '--experiment', app, '--percent', '50', '--listen', `127.0.0.1:${PORT}`],
    traffic: async (p) => {
      for (let i = 0; i < 10; i++) await get(`http://127.0.0.1:${p}/`, { headers: { cookie: `uid=u${i}` } });
    },
  },
  'shard-ambassador': {
    args: () => [
      '--redis-servers',
      `127.0.0.1:${redis.port}:1`,
      '--redis-listen',
      `127.0.0.1:${PORT}`,
      '-s',
      PORT,
    ],
    traffic: async (p) => {
      const r = await run('redis-cli', ['-p', String(p), 'set', 'k', 'v']);
      expect(r.stdout.trim()).toBe('OK');
    },
  },
  'metrics-adapter': {
    args: () => ['--redis', `redis://127.0.0.1:${redis.port}`, '--redis-listen', `127.0.0.1:${PORT}`],
    traffic: (p) => get(`http://127.0.0.1:${p}/metrics`),
  },
  'log-adapter': {
    args: () => {
      writeFileSync(join(dir, 'app.log'), '{"level":"info","msg":"one"}\nnot json\n');
      return ['--input', join(dir, '*.log')];
    },
  },
  'health-adapter': {
    args: () => [
      '--memcached',
      `127.0.0.1:${memcached.port}`,
      '--http',
      `${app}/status`,
      '--listen',
      `127.0.0.1:${PORT}`,
    ],
    traffic: (p) => get(`http://127.0.0.1:${p}/readyz?verbose`),
  },
};

async function withPorts(args: string[]): Promise<{ args: string[]; first: number }> {
  const out: string[] = [];
  let first = 0;
  for (const a of args) {
    if (!a.includes(PORT)) {
      out.push(a);
      continue;
    }
    const [port] = (await freePorts(1)) as [number];
    first ||= port;
    out.push(a.replace(PORT, String(port)));
  }
  return { args: out, first };
}

async function strictPromtool(pkg: string, extra: string[] = []): Promise<void> {
  const c = cases[pkg]!;
  const { args, first } = await withPorts(c.args());
  const [admin] = (await freePorts(1)) as [number];
  const p = startComponent(pkg, [...args, ...extra, '--admin', `127.0.0.1:${admin}`]);
  procs.push(p);
  await waitForHttp(`http://127.0.0.1:${admin}/readyz`, 200, 30_000).catch(() => p.waitFor('started'));
  await c.traffic?.(first);
  const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
  expect(text).toContain('dds_build_info');
  const lint = await run('promtool', ['check', 'metrics'], { input: text });
  expect(lint.stdout + lint.stderr, `promtool findings for ${pkg}`).toBe('');
  expect(lint.code).toBe(0);
}

describe('admin /metrics passes promtool check metrics with no finding', () => {
  for (const pkg of Object.keys(cases)) it(pkg, () => strictPromtool(pkg));

  for (const pkg of ['tls-sidecar', 'experiment-splitter', 'demo-app']) {
    it(`${pkg} --workers 2 (the primary's aggregated registry)`, () =>
      strictPromtool(pkg, ['--workers', '2']));
  }

  it('dds-pod (one registry for several components)', async () => {
    const c = selfSignedCert();
    const [tls, rl, admin] = (await freePorts(3)) as [number, number, number];
    const file = join(dir, 'pod.yaml');
    writeFileSync(
      file,
      `admin: 127.0.0.1:${admin}\ncomponents:\n  tls-sidecar:\n    listen: 127.0.0.1:${tls}\n    cert: ${c.cert}\n    key: ${c.key}\n    upstream: http://127.0.0.1:${rl}\n  rate-limiter:\n    listen: 127.0.0.1:${rl}\n    upstream: ${app}\n    rate: 100/s\n`,
    );
    const p = startComponent('pod', ['--config', file]);
    procs.push(p);
    await waitForHttp(`http://127.0.0.1:${admin}/readyz`, 200, 30_000);
    await get(`http://127.0.0.1:${rl}/`);
    const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    const lint = await run('promtool', ['check', 'metrics'], { input: text });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.code).toBe(0);
  });
});
