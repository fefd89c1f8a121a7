import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  freePorts,
  type Proc,
  run,
  type Service,
  startComponent,
  startRedis,
  tempDir,
  waitForHttp,
} from '@dds/test-support';
import { afterEach, describe, expect, it } from 'vitest';

// A proxying component reports at start which fast paths on Node's internals are live (a log
// line and dds_fast_path_info), and serves the same with them switched off (DDS_FAST_PATHS_OFF),
// as it would on a Node whose internals changed.

const procs: Proc[] = [];
const services: Service[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  await Promise.all(services.splice(0).map((s) => s.stop()));
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

describe('fast paths of shard-ambassador (stream state, direct reads and writes)', () => {
  async function ambassador(env: Record<string, string> = {}) {
    const shard = await startRedis();
    services.push(shard);
    const [port, admin] = await freePorts(2);
    const dir = tempDir('fast-paths-shard');
    const file = join(dir, 'nutcracker.yaml');
    writeFileSync(
      file,
      `alpha:\n  listen: 127.0.0.1:${port}\n  redis: true\n  servers:\n    - 127.0.0.1:${shard.port}:1 s0\n`,
    );
    const amb = startComponent('shard-ambassador', ['-c', file, '--admin', `127.0.0.1:${admin}`], { env });
    procs.push(amb);
    await waitForHttp(`http://127.0.0.1:${admin}/readyz`);
    await amb.waitFor('fast paths');
    return { amb, port: port!, metrics: `http://127.0.0.1:${admin}/metrics` };
  }

  /** SET then GET of 200 keys on one connection, pipelined: every reply as Redis gives it. */
  async function roundTrip(port: number): Promise<void> {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    let req = '';
    for (let i = 0; i < 200; i++)
      req += `*3\r\n$3\r\nSET\r\n$4\r\nk${String(i).padStart(3, '0')}\r\n$1\r\nv\r\n`;
    for (let i = 0; i < 200; i++) req += `*2\r\n$3\r\nGET\r\n$4\r\nk${String(i).padStart(3, '0')}\r\n`;
    s.write(req);
    const want = '+OK\r\n'.repeat(200) + '$1\r\nv\r\n'.repeat(200);
    const until = Date.now() + 10_000;
    while (out.length < want.length && Date.now() < until) await once(s, 'data');
    s.destroy();
    expect(out).toBe(want);
  }

  it('live: the log line and dds_fast_path_info name them (direct writes once the first write taught them)', async () => {
    const { amb, port, metrics } = await ambassador();
    const line = JSON.parse(
      amb
        .stdout()
        .split('\n')
        .find((l) => l.includes('fast paths'))!,
    );
    expect(line.fastPaths).toMatchObject({
      'stream-state': true,
      'direct-read': true,
      'socket-adoption': true,
    });
    await roundTrip(port);
    const text = await (await fetch(metrics)).text();
    for (const path of ['stream-state', 'direct-read', 'direct-write', 'socket-adoption'])
      expect(text).toContain(`dds_fast_path_info{path="${path}",live="1"} 1`);
  });

  it('switched off, the fallbacks serve the same bytes', async () => {
    const { amb, port, metrics } = await ambassador({
      DDS_FAST_PATHS_OFF: 'stream-state,direct-read,direct-write,socket-adoption',
    });
    const line = JSON.parse(
      amb
        .stdout()
        .split('\n')
        .find((l) => l.includes('fast paths'))!,
    );
    expect(line.fastPaths['stream-state']).toBe('switched off by DDS_FAST_PATHS_OFF');
    await roundTrip(port);
    const text = await (await fetch(metrics)).text();
    for (const path of ['stream-state', 'direct-read', 'direct-write', 'socket-adoption'])
      expect(text).toContain(`dds_fast_path_info{path="${path}",live="0"} 1`);
  });
});
