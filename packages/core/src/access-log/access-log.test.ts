import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TrustedProxies } from '../http/trusted-proxies.js';
import { createLogger } from '../logger.js';
import { AccessLog, accessAttr, type LoggedRequest } from './access-log.js';
import { LineWriter } from './line-writer.js';

const dir = () => mkdtempSync(join(tmpdir(), 'dds-access-log-'));
const lines = (file: string): Record<string, unknown>[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const request = (over: Partial<LoggedRequest> & { headers?: string[] } = {}): LoggedRequest => ({
  method: 'GET',
  url: '/items/7?color=red&q=%22x%22',
  httpVersionMajor: 1,
  httpVersionMinor: 1,
  rawHeaders: over.headers ?? [
    'Host',
    'shop.example:8443',
    'User-Agent',
    'curl/8.5 "quoted"',
    'traceparent',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'Content-Length',
    '12',
  ],
  socket: { remoteAddress: '::ffff:10.1.2.3', remotePort: 51234 } as Socket,
  ...over,
});

function accessLog(env: Record<string, string> = {}) {
  const registry = new Registry();
  const log = new AccessLog({
    component: 'test-proxy',
    registry,
    logger: createLogger('test', 'silent'),
    env,
  });
  return { log, registry };
}

describe('AccessLog', () => {
  it('writes one OpenTelemetry-shaped JSON record per request with the HTTP attributes', async () => {
    const file = join(dir(), 'access.log');
    const { log, registry } = accessLog({ POD_NAME: 'web-1', POD_NAMESPACE: 'shop' });
    log.configure({ accessLog: `file:${file}`, accessLogSample: 1 });
    log.log(request(), 201, 0.0123456789, 345, undefined, accessAttr('dds.variant', 'b'));
    await log.close();
    const [r] = lines(file);
    expect(r).toMatchObject({
      severity_text: 'INFO',
      severity_number: 9,
      body: 'GET /items/7?color=red&q=%22x%22 HTTP/1.1 201',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/items/7',
        'url.query': 'color=red&q=%22x%22',
        'network.protocol.version': '1.1',
        'http.response.status_code': 201,
        'http.server.request.duration': 0.012346,
        'http.response.body.size': 345,
        'http.request.body.size': 12,
        'client.address': '10.1.2.3',
        'client.port': 51234,
        'server.address': 'shop.example',
        'user_agent.original': 'curl/8.5 "quoted"',
        'dds.variant': 'b',
      },
      resource: { 'k8s.pod.name': 'web-1', 'k8s.namespace.name': 'shop', 'service.name': 'dds-test-proxy' },
    });
    const start = Date.parse(r!.timestamp as string);
    const observed = Date.parse(r!.observed_timestamp as string);
    expect(observed - start).toBeGreaterThanOrEqual(11);
    expect(observed - start).toBeLessThanOrEqual(14);
    expect(await registry.getSingleMetricAsString('dds_access_log_records_total')).toMatch(/ 1$/m);
  });

  it('severity follows the status; failures and the client behind a trusted proxy are recorded', async () => {
    const file = join(dir(), 'access.log');
    const { log } = accessLog();
    log.configure({ accessLog: `file:${file}`, accessLogSample: 1 });
    const trusted = new TrustedProxies(['10.0.0.0/8']);
    const behindProxy = request({ headers: ['X-Forwarded-For', '203.0.113.9, 10.9.9.9'] });
    log.log(behindProxy, 502, 0.5, 21, 'upstream_error', '', trusted);
    log.log(
      request({ httpVersionMajor: 2, httpVersionMinor: 0, headers: [':authority', '[::1]:8443'] }),
      404,
      0,
      0,
    );
    await log.close();
    const [a, b] = lines(file);
    expect(a).toMatchObject({
      severity_text: 'ERROR',
      severity_number: 17,
      attributes: {
        'client.address': '203.0.113.9',
        'network.peer.address': '10.1.2.3',
        'dds.failure': 'upstream_error',
      },
    });
    expect(a!.trace_id).toBeUndefined();
    expect(b).toMatchObject({
      severity_text: 'WARN',
      attributes: { 'network.protocol.version': '2', 'server.address': '::1' },
    });
  });

  it('samples successful requests but always keeps 5xx answers and failures', async () => {
    const file = join(dir(), 'access.log');
    const { log } = accessLog();
    log.configure({ accessLog: `file:${file}`, accessLogSample: 0 });
    for (let i = 0; i < 50; i++) log.log(request(), 200, 0, 0);
    log.log(request(), 503, 0, 0);
    log.log(request(), 499, 0, 0, 'client_abort');
    await log.close();
    expect(
      lines(file).map((r) => (r.attributes as Record<string, unknown>)['http.response.status_code']),
    ).toEqual([503, 499]);
  });

  it('a destination that cannot be opened is refused and the old one keeps writing', async () => {
    const file = join(dir(), 'access.log');
    const { log } = accessLog();
    log.configure({ accessLog: `file:${file}`, accessLogSample: 1 });
    expect(() => log.configure({ accessLog: 'file:/nonexistent-dir/x.log', accessLogSample: 1 })).toThrow(
      /access-log: cannot open file:\/nonexistent-dir\/x\.log: ENOENT/,
    );
    log.log(request(), 200, 0, 0);
    await log.close();
    expect(lines(file)).toHaveLength(1);
  });

  it('off writes nothing and reports itself disabled', () => {
    const { log } = accessLog();
    log.configure({ accessLog: 'off', accessLogSample: 1 });
    expect(log.enabled).toBe(false);
    log.log(request(), 200, 0, 0);
  });
});

describe('LineWriter', () => {
  it('never waits: a burst beyond the buffer is dropped and counted, what fit is written whole', async () => {
    const file = join(dir(), 'burst.log');
    let written = 0;
    let dropped = 0;
    const w = new LineWriter(
      { kind: 'file', path: file },
      { maxBuffered: 1000, onWritten: (n) => (written += n), onDropped: (n) => (dropped += n) },
    );
    const line = `${'x'.repeat(98)}\n`;
    let accepted = 0;
    for (let i = 0; i < 25; i++) if (w.write(line)) accepted++;
    expect(accepted).toBe(10); // 10 x 99 units fit in 1000 before anything could be written
    expect(dropped).toBe(15);
    await w.close();
    expect(written).toBe(10);
    expect(readFileSync(file, 'utf8')).toBe(line.repeat(10));
  });

  it('batches whatever arrives while a write is in flight', async () => {
    const file = join(dir(), 'batch.log');
    let writes = 0;
    const w = new LineWriter(
      { kind: 'file', path: file },
      { maxBuffered: 1 << 20, onWritten: () => writes++ },
    );
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 100; i++) w.write(`${round}:${i}\n`);
      await new Promise((r) => setImmediate(r));
    }
    await w.close();
    const got = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(got).toHaveLength(2000);
    expect(got[1999]).toBe('19:99');
    expect(writes).toBeLessThan(2000 / 50);
  });

  it('follows a file renamed away (logrotate): later lines go to a new file at the path', async () => {
    const d = dir();
    const file = join(d, 'rot.log');
    const w = new LineWriter({ kind: 'file', path: file }, { maxBuffered: 1 << 20 });
    w.write('before\n');
    await until(() => existsSync(file) && readFileSync(file, 'utf8') === 'before\n', 'first line');
    renameSync(file, `${file}.1`);
    let n = 0;
    await until(() => {
      w.write(`after ${n++}\n`);
      return existsSync(file) && readFileSync(file, 'utf8').length > 0;
    }, 'a new file after the rename');
    await w.close();
    expect(readFileSync(`${file}.1`, 'utf8')).toMatch(/^before\n/);
    expect(readFileSync(file, 'utf8')).toMatch(/^after \d+\n/);
    const all = `${readFileSync(`${file}.1`, 'utf8')}${readFileSync(file, 'utf8')}`
      .split('\n')
      .filter(Boolean);
    expect(all).toHaveLength(n + 1); // nothing lost across the reopen
  });
});
