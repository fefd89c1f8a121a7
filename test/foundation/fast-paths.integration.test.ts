import { freePorts, type Proc, run, startComponent, waitForHttp } from '@dds/test-support';
import { afterEach, describe, expect, it } from 'vitest';

// A proxying component reports at start which fast paths on Node's internals are live (a log
// line and dds_fast_path_info), and serves the same with them switched off (DDS_FAST_PATHS_OFF),
// as it would on a Node whose internals changed.

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

async function limiterBehindDemo(env: Record<string, string> = {}) {
  const [app, port, admin] = await freePorts(3);
  const demo = startComponent('demo-app', ['--listen', `127.0.0.1:${app}`, '--admin', 'off']);
  procs.push(demo);
  const limiter = startComponent(
    'rate-limiter',
    [
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--upstream',
      `http://127.0.0.1:${app}`,
      '--rate',
      '1000/s',
    ],
    { env },
  );
  procs.push(limiter);
  await waitForHttp(`http://127.0.0.1:${app}/`);
  await waitForHttp(`http://127.0.0.1:${admin}/readyz`);
  await limiter.waitFor('fast paths');
  return { limiter, url: `http://127.0.0.1:${port}`, metrics: `http://127.0.0.1:${admin}/metrics` };
}

describe('fast paths', () => {
  it('are reported live at start: a log line and dds_fast_path_info', async () => {
    const { limiter, url, metrics } = await limiterBehindDemo();
    const line = JSON.parse(
      limiter
        .stdout()
        .split('\n')
        .find((l) => l.includes('fast paths'))!,
    );
    expect(line.fastPaths).toMatchObject({ llhttp: true, 'socket-adoption': true });
    expect((await fetch(`${url}/echo`)).status).toBe(200);
    const text = await (await fetch(metrics)).text();
    expect(text).toContain('dds_fast_path_info{path="llhttp",live="1"} 1');
    expect(text).toContain('dds_fast_path_info{path="socket-adoption",live="1"} 1');
  });

  it('switched off, the fallback serves the same requests and the report says why', async () => {
    const { limiter, url, metrics } = await limiterBehindDemo({ DDS_FAST_PATHS_OFF: 'socket-adoption' });
    const line = JSON.parse(
      limiter
        .stdout()
        .split('\n')
        .find((l) => l.includes('fast paths'))!,
    );
    expect(line.fastPaths['socket-adoption']).toBe('switched off by DDS_FAST_PATHS_OFF');
    const r = await fetch(`${url}/echo?x=1`, { method: 'POST', body: 'y'.repeat(100_000) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { bodyBytes: number }).bodyBytes).toBe(100_000);
    const text = await (await fetch(metrics)).text();
    expect(text).toContain('dds_fast_path_info{path="socket-adoption",live="0"} 1');
  });

  it('an unknown name in DDS_FAST_PATHS_OFF is a config error (exit 2) naming it', async () => {
    const r = await run(process.execPath, ['packages/rate-limiter/dist/main.js', '--rate', '1/s'], {
      env: { DDS_FAST_PATHS_OFF: 'llhttp,warp' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DDS_FAST_PATHS_OFF: unknown fast path "warp"');
  });
});
