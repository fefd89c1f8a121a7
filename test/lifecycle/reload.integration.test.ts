// Hot reload without dropped connections, shown on one connection in every component that has
// clients: a request before the reload, the config file changed, a request after it on the same
// socket, which answers by the new config and was never closed. And SIGHUP forces a reload: with
// nothing changed, the process reloads at once (counted, logged with the signal as the cause).
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  freePorts,
  type Proc,
  type Service,
  selfSignedCert,
  startComponent,
  startRedis,
  tempDir,
  waitForHttp,
} from '@dds/test-support';
import { oneConnection } from '@dds/test-support/lifecycle';
import { afterAll, describe, expect, it } from 'vitest';

const procs: Proc[] = [];
const services: Service[] = [];
afterAll(async () => {
  await Promise.all([...procs.map((p) => p.kill('SIGKILL')), ...services.map((s) => s.stop())]);
});

/** Reloads applied or refused so far. */
const reloads = (p: Proc): number =>
  ((p.stdout() + p.stderr()).match(/"msg":"configuration (?:reloaded|rejected)/g) ?? []).length;

/** Waits for the next reload, which must be applied (a refused one fails the test). */
async function reloaded(p: Proc, before: number): Promise<void> {
  await p.waitFor(
    new RegExp(`(?:"msg":"configuration (?:reloaded|rejected)[\\s\\S]*?){${before + 1}}`),
    20_000,
  );
  expect(p.stdout() + p.stderr()).not.toContain('"msg":"configuration rejected');
}

/** SIGHUP with nothing changed: one more reload, logged with SIGHUP as its cause, and counted. */
async function sighupForcesReload(p: Proc, admin: string): Promise<void> {
  const before = reloads(p);
  const counted = async () =>
    Number(/^dds_config_reloads_total (\d+)/m.exec(await (await fetch(`${admin}/metrics`)).text())?.[1]);
  const n = await counted();
  p.child.kill('SIGHUP');
  await reloaded(p, before);
  const line = (p.stdout() + p.stderr())
    .split('\n')
    .filter((l) => l.includes('"msg":"configuration reloaded"'))
    .at(-1)!;
  expect(JSON.parse(line)).toMatchObject({ changed: ['SIGHUP'] });
  expect(await counted()).toBe(n + 1);
}

async function component(
  pkg: string,
  args: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<{ p: Proc; admin: string }> {
  const [admin] = (await freePorts(1)) as [number];
  const p = startComponent(
    pkg,
    [...args, '--admin', `127.0.0.1:${admin}`, '--reload-interval', '200ms'],
    opts,
  );
  procs.push(p);
  await p.waitFor('started', 30_000);
  return { p, admin: `http://127.0.0.1:${admin}` };
}

async function demoApp(): Promise<string> {
  const [port] = (await freePorts(1)) as [number];
  const p = startComponent('demo-app', ['--listen', `127.0.0.1:${port}`, '--admin', 'off']);
  procs.push(p);
  await waitForHttp(`http://127.0.0.1:${port}/status`);
  return `http://127.0.0.1:${port}`;
}

describe('hot reload keeps the connection; SIGHUP forces a reload', () => {
  it('demo-app: the message changes on the same socket', async () => {
    const dir = tempDir('reload-demo');
    const file = join(dir, 'demo.yaml');
    const [port] = (await freePorts(1)) as [number];
    writeFileSync(file, `listen: 127.0.0.1:${port}\nmessage: before\n`);
    const { p, admin } = await component('demo-app', ['--config', file]);
    const c = oneConnection(`http://127.0.0.1:${port}`);
    expect((await c.get('/')).body).toBe('before\n');
    const n = reloads(p);
    writeFileSync(file, `listen: 127.0.0.1:${port}\nmessage: after\n`);
    await reloaded(p, n);
    expect((await c.get('/')).body).toBe('after\n');
    expect(c.sockets.size).toBe(1);
    expect(c.closed()).toBe(false);
    await sighupForcesReload(p, admin);
    expect((await c.get('/')).body).toBe('after\n');
    expect(c.sockets.size).toBe(1);
    c.close();
  });

  it('tls-sidecar: HSTS changes on the same TLS connection', async () => {
    const app = await demoApp();
    const cert = selfSignedCert();
    const dir = tempDir('reload-tls');
    const file = join(dir, 'tls.yaml');
    const [port] = (await freePorts(1)) as [number];
    const cfg = (hsts: string) =>
      `listen: 127.0.0.1:${port}\ncert: ${cert.cert}\nkey: ${cert.key}\nupstream: ${app}\nhsts: "${hsts}"\n`;
    writeFileSync(file, cfg('max-age=100'));
    const { p, admin } = await component('tls-sidecar', ['--config', file]);
    const c = oneConnection(`https://localhost:${port}`, { ca: cert.pem });
    expect((await c.get('/')).headers['strict-transport-security']).toBe('max-age=100');
    const n = reloads(p);
    writeFileSync(file, cfg('max-age=200'));
    await reloaded(p, n);
    expect((await c.get('/')).headers['strict-transport-security']).toBe('max-age=200');
    expect(c.sockets.size).toBe(1);
    expect(c.closed()).toBe(false);
    await sighupForcesReload(p, admin);
    expect((await c.get('/')).status).toBe(200);
    expect(c.sockets.size).toBe(1);
    c.close();
  });

  it('rate-limiter: a new limit on the same connection', async () => {
    const app = await demoApp();
    const dir = tempDir('reload-rl');
    const file = join(dir, 'rl.yaml');
    const [port] = (await freePorts(1)) as [number];
    const cfg = (rate: string) =>
      `listen: 127.0.0.1:${port}\nupstream: ${app}\nheaders: all\npolicies:\n  - name: per-ip\n    key: ip\n    limits: [{ rate: ${rate}, burst: 20 }]\n`;
    writeFileSync(file, cfg('100/s'));
    const { p, admin } = await component('rate-limiter', ['--config', file]);
    const c = oneConnection(`http://127.0.0.1:${port}`);
    expect((await c.get('/')).headers['ratelimit-policy']).toBe('"per-ip";q=100;w=1');
    const n = reloads(p);
    writeFileSync(file, cfg('50/s'));
    await reloaded(p, n);
    expect((await c.get('/')).headers['ratelimit-policy']).toBe('"per-ip";q=50;w=1');
    expect(c.sockets.size).toBe(1);
    expect(c.closed()).toBe(false);
    await sighupForcesReload(p, admin);
    expect((await c.get('/')).status).toBe(200);
    expect(c.sockets.size).toBe(1);
    c.close();
  });

  it('experiment-splitter: a re-weighted experiment on the same connection', async () => {
    const [control, experiment] = [await demoApp(), await demoApp()];
    const dir = tempDir('reload-split');
    const file = join(dir, 'split.yaml');
    const [port] = (await freePorts(1)) as [number];
    const cfg = (weight: number) =>
      `listen: 127.0.0.1:${port}\nkey: header:x-user\nresponseHeader: true\nexperiments:\n  - name: e\n    variants:\n      - { name: control, backend: "${control}" }\n      - { name: next, backend: "${experiment}", weight: ${weight} }\n`;
    writeFileSync(file, cfg(0));
    const { p, admin } = await component('experiment-splitter', ['--config', file]);
    const c = oneConnection(`http://127.0.0.1:${port}`);
    const user = { 'x-user': 'u1' };
    expect((await c.get('/', user)).headers['x-dds-variant']).toBe('control');
    const n = reloads(p);
    writeFileSync(file, cfg(100));
    await reloaded(p, n);
    expect((await c.get('/', user)).headers['x-dds-variant']).toBe('next');
    expect(c.sockets.size).toBe(1);
    expect(c.closed()).toBe(false);
    await sighupForcesReload(p, admin);
    expect((await c.get('/', user)).headers['x-dds-variant']).toBe('next');
    expect(c.sockets.size).toBe(1);
    c.close();
  });

  it('shard-ambassador: a server added under one open Redis client connection', async () => {
    const [r1, r2] = [await startRedis(), await startRedis()];
    services.push(r1, r2);
    const dir = tempDir('reload-shard');
    const file = join(dir, 'nutcracker.yaml');
    const [port, stats] = (await freePorts(2)) as [number, number];
    const cfg = (servers: number[]) =>
      `alpha:\n  listen: 127.0.0.1:${port}\n  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n${servers.map((s, i) => `    - 127.0.0.1:${s}:1 s${i}\n`).join('')}`;
    writeFileSync(file, cfg([r1.port]));
    const { p, admin } = await component('shard-ambassador', ['-c', file, '-s', String(stats)]);
    const sock = connect(port, '127.0.0.1');
    await once(sock, 'connect');
    let closed = false;
    sock.once('close', () => (closed = true));
    const ask = async (cmd: string): Promise<string> => {
      sock.write(`${cmd}\r\n`);
      const [data] = (await once(sock, 'data')) as [Buffer];
      return data.toString();
    };
    expect(await ask('SET before 1')).toBe('+OK\r\n');
    const n = reloads(p);
    writeFileSync(file, cfg([r1.port, r2.port]));
    await reloaded(p, n);
    // the same client connection keeps working; new keys spread over both servers
    for (let i = 0; i < 20; i++) expect(await ask(`SET k${i} v${i}`)).toBe('+OK\r\n');
    expect(await ask('GET k7')).toBe('$2\r\nv7\r\n');
    const onSecond = await new Promise<string>((resolve) => {
      const s = connect(r2.port, '127.0.0.1', () => s.write('DBSIZE\r\n'));
      s.once('data', (d) => {
        resolve(d.toString());
        s.destroy();
      });
    });
    expect(Number(onSecond.slice(1))).toBeGreaterThan(0);
    await sighupForcesReload(p, admin);
    expect(await ask('PING')).toBe('+PONG\r\n');
    expect(closed).toBe(false);
    sock.destroy();
  });

  it('metrics-adapter: a new JSON mapping on the same scrape connection', async () => {
    const app = await demoApp();
    const dir = tempDir('reload-metrics');
    const json = join(dir, 'json.yml');
    const mapping = (names: string[]) =>
      `modules:\n  default:\n    metrics:\n${names.map((n) => `      - name: ${n}\n        path: "{.requests}"\n`).join('')}`;
    writeFileSync(json, mapping(['app_requests']));
    const [port] = (await freePorts(1)) as [number];
    const { p, admin } = await component('metrics-adapter', [
      '--json',
      `${app}/stats`,
      '--json-config',
      json,
      '--json-listen',
      `127.0.0.1:${port}`,
    ]);
    const c = oneConnection(`http://127.0.0.1:${port}`);
    const first = await c.get('/metrics');
    expect(first.body).toMatch(/^app_requests \d+/m);
    expect(first.body).not.toContain('app_requests_again');
    const n = reloads(p);
    writeFileSync(json, mapping(['app_requests', 'app_requests_again']));
    await reloaded(p, n);
    expect((await c.get('/metrics')).body).toMatch(/^app_requests_again \d+/m);
    expect(c.sockets.size).toBe(1);
    expect(c.closed()).toBe(false);
    await sighupForcesReload(p, admin);
    expect((await c.get('/metrics')).status).toBe(200);
    expect(c.sockets.size).toBe(1);
    c.close();
  });

  it('health-adapter: a new check on the same probe connection', async () => {
    const listener = createServer((s: Socket) => s.end());
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const tcp = `127.0.0.1:${(listener.address() as { port: number }).port}`;
    const dir = tempDir('reload-health');
    const file = join(dir, 'checks.yaml');
    const [port] = (await freePorts(1)) as [number];
    const cfg = (names: string[]) =>
      `listen: 127.0.0.1:${port}\ninterval: 200ms\nchecks:\n${names.map((n) => `  - { name: ${n}, type: tcp, address: "${tcp}" }\n`).join('')}`;
    writeFileSync(file, cfg(['first']));
    const { p, admin } = await component('health-adapter', ['--config', file]);
    const c = oneConnection(`http://127.0.0.1:${port}`);
    expect((await c.get('/readyz?verbose')).body).toContain('[+]first ok');
    const n = reloads(p);
    writeFileSync(file, cfg(['first', 'second']));
    await reloaded(p, n);
    expect((await c.get('/readyz/second')).status).not.toBe(404);
    expect((await c.get('/readyz?verbose')).body).toMatch(/\]second /);
    expect(c.sockets.size).toBe(1);
    expect(c.closed()).toBe(false);
    await sighupForcesReload(p, admin);
    expect((await c.get('/livez')).status).toBe(200);
    expect(c.sockets.size).toBe(1);
    c.close();
    listener.close();
  });

  it('log-adapter (no client connections: its outputs are covered in its own tests): SIGHUP forces a reload', async () => {
    const dir = tempDir('reload-log');
    writeFileSync(join(dir, 'app.log'), '{"level":"info","msg":"hello"}\n');
    const file = join(dir, 'log.yaml');
    writeFileSync(file, `input: ["${dir}/*.log"]\noutput: [stdout]\n`);
    const { p, admin } = await component('log-adapter', ['--config', file]);
    await sighupForcesReload(p, admin);
  });
});
