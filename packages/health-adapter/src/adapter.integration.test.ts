import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { bin, freePorts, type Proc, run, startComponent, tempDir, waitForHttp } from '@dds/test-support';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const node = process.execPath;

describe('dds-health-adapter configuration errors exit 2 naming the field', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /checks: no checks configured: give a quick flag/],
    [
      ['--mysql', 'mysql://root:secret@127.0.0.1:3306/x'],
      /mysql: no password in the URL .*\[from flag --mysql\]/,
    ],
    [['--redis', 'http://127.0.0.1:6379'], /redis: expected a URL like redis:\/\/\[USER@\]HOST:6379/],
    [['--tcp', 'nohost'], /tcp\.0: invalid address/],
    [
      ['--http', 'ftp://x', '--interval', '10ms'],
      /http\.0: expected http:\/\/HOST:PORT[\s\S]*interval: at least 100ms/,
    ],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ') || '(no checks)'}`, async () => {
      const r = await run(node, [bin('health-adapter'), '--admin', 'off', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  }

  it('a checks file with a bad entry names the entry and field', async () => {
    const dir = tempDir('health-cfg');
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      `checks:
  - { name: a, type: http, url: "http://127.0.0.1:1/", expectStatus: "200-1000" }
  - { name: a, type: tcp, address: "127.0.0.1:1" }
  - { name: "bad name", type: exec, command: "true" }
  - { name: b, type: smtp }
`,
    );
    const r = await run(node, [bin('health-adapter'), '--admin', 'off', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checks\.0\.expectStatus: expected status ranges/);
    expect(r.stderr).toMatch(/checks\.2\.name: letters, digits/);
    expect(r.stderr).toMatch(/checks\.3\.type: /);
    // names must be unique, quick-flag checks included
    writeFileSync(
      file,
      'checks:\n  - { name: a, type: tcp, address: "127.0.0.1:1" }\n  - { name: tcp, type: tcp, address: "127.0.0.1:2" }\n',
    );
    const dup = await run(node, [
      bin('health-adapter'),
      '--admin',
      'off',
      '--config',
      file,
      '--tcp',
      '127.0.0.1:3',
    ]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/checks\.1\.name: duplicate check name "tcp"/);
  });
});

describe('dds-health-adapter probe server', () => {
  let app: Proc;
  let adapter: Proc;
  let base: string;
  let admin: string;
  let file: string;
  let appPort: number;

  const get = async (path: string, init?: RequestInit) => {
    const r = await fetch(base + path, init);
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  };

  beforeAll(async () => {
    let probePort: number;
    let adminPort: number;
    [appPort, probePort, adminPort] = await freePorts(3);
    base = `http://127.0.0.1:${probePort}`;
    admin = `http://127.0.0.1:${adminPort}`;
    app = startComponent('demo-app', ['--listen', `127.0.0.1:${appPort}`, '--admin', 'off']);
    await waitForHttp(`http://127.0.0.1:${appPort}/`);
    const dir = tempDir('health-probe');
    file = join(dir, 'checks.yaml');
    writeFileSync(
      file,
      `interval: 200ms
checks:
  - name: app-errors
    type: http
    url: http://127.0.0.1:${appPort}/status/500
    critical: false
`,
    );
    adapter = startComponent('health-adapter', [
      '--listen',
      `127.0.0.1:${probePort}`,
      '--admin',
      `127.0.0.1:${adminPort}`,
      '--http',
      `http://127.0.0.1:${appPort}/`,
      '--tcp',
      `127.0.0.1:${appPort}`,
      '--config',
      file,
      '--reload-interval',
      '100ms',
      '--failure-threshold',
      '1',
      '--shutdown-delay',
      '1s',
    ]);
    await adapter.waitFor('probes on');
    await waitForHttp(`${base}/readyz`, 200, 5000);
    // every check has run once: the informational one has failed (the verdict is warn)
    await vi.waitFor(async () => expect(JSON.parse((await get('/readyz')).text).status).toBe('warn'), {
      timeout: 5000,
      interval: 50,
    });
  });
  afterAll(async () => {
    await adapter?.kill();
    await app?.kill();
  });

  it('/readyz passes with a warn when only an informational check fails', async () => {
    const r = await get('/readyz');
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.text);
    expect(doc.status).toBe('warn');
    expect(Object.keys(doc.checks)).toEqual([
      'http:responseTime',
      'tcp:responseTime',
      'app-errors:responseTime',
    ]);
    expect(doc.checks['http:responseTime'][0]).toMatchObject({ status: 'pass', componentType: 'component' });
    expect(doc.checks['http:responseTime'][0]).not.toHaveProperty('output');
    expect(doc.checks['app-errors:responseTime'][0]).toMatchObject({
      status: 'fail',
      critical: false,
      output: 'HTTP 500 Internal Server Error',
    });
  });

  it('/readyz/<check>, ?verbose, HEAD, 404 and 405', async () => {
    expect((await get('/readyz/tcp')).status).toBe(200);
    expect(JSON.parse((await get('/readyz/%74cp')).text).checks).toHaveProperty(['tcp:responseTime']);
    const one = await get('/readyz/app-errors');
    expect(one.status).toBe(503);
    expect(JSON.parse(one.text)).toMatchObject({ status: 'fail', output: 'HTTP 500 Internal Server Error' });
    const v = await get('/readyz?verbose');
    expect(v.type).toBe('text/plain; charset=utf-8');
    expect(v.text).toMatch(
      /^\[\+\]http ok: HTTP 200 \[[\d.]+ ms\]\n\[\+\]tcp ok: connected \[[\d.]+ ms\]\n\[-\]app-errors \(informational\) failed: HTTP 500 Internal Server Error \[[\d.]+ ms\] \(\d+ consecutive failures\)\nreadyz check passed\n$/,
    );
    expect((await get('/livez?verbose')).text).toBe('[+]ping ok\nlivez check passed\n');
    const head = await get('/readyz', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    const missing = await get('/readyz/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).output).toMatch(
      /try \/livez, \/healthz, \/readyz or \/readyz\/<check> \(http, tcp, app-errors\)/,
    );
    expect((await get('/readyz/%E0%A4%A')).status).toBe(404);
    expect((await get('/readyz', { method: 'POST' })).status).toBe(405);
  });

  it('any request line gets a well-formed HTTP answer and the server keeps serving', async () => {
    const { port } = new URL(base);
    const raw = (line: Buffer) =>
      new Promise<string>((resolve) => {
        const s = connect(Number(port), '127.0.0.1');
        let out = '';
        s.on('data', (d) => {
          out += d.toString('latin1');
        });
        s.on('error', () => resolve(out));
        s.on('close', () => resolve(out));
        s.end(Buffer.concat([line, Buffer.from('\r\nHost: x\r\nConnection: close\r\n\r\n')]));
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.webPath().map((p) => Buffer.from(`GET /readyz${p}?verbose HTTP/1.1`)),
          fc.string({ maxLength: 80 }).map((p) => Buffer.from(`GET /readyz/${p} HTTP/1.1`)),
          fc
            .uint8Array({ maxLength: 120 })
            .map((b) => Buffer.concat([Buffer.from('GET /'), Buffer.from(b), Buffer.from(' HTTP/1.1')])),
        ),
        async (line) => {
          const answer = await raw(line);
          expect(answer).toMatch(/^HTTP\/1\.1 (200|400|404|503) /);
        },
      ),
      { numRuns: 150 },
    );
    expect((await get('/healthz')).status).toBe(200);
  });

  it('an oversized request head gets 431 and the server keeps serving', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/readyz`, { headers: { 'x-big': 'a'.repeat(20_000) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('metrics per check on the admin port', async () => {
    const m = await (await fetch(`${admin}/metrics`)).text();
    expect(m).toContain('dds_health_check_up{check="http",type="http",critical="true"} 1');
    expect(m).toMatch(/^dds_health_ready 1$/m);
    expect(m).toContain('dds_health_check_up{check="app-errors",type="http",critical="false"} 0');
    expect(m).toMatch(
      /dds_health_check_failures_total\{check="app-errors",type="http",reason="unhealthy"\} [1-9]/,
    );
    expect(m).toMatch(/dds_health_check_duration_seconds_count\{check="tcp",type="tcp"\} [1-9]/);
    expect(m).toMatch(/dds_health_check_consecutive_failures\{check="app-errors"\} [1-9]/);
    expect(m).toMatch(/dds_health_probe_requests_total\{endpoint="readyz",code="200"\} [1-9]/);
  });

  it('reload: checks are added and removed; an invalid file is rejected and the old checks keep serving', async () => {
    writeFileSync(
      file,
      `interval: 200ms
checks:
  - name: app-slow
    type: http
    url: http://127.0.0.1:${appPort}/slow?ms=3000
    timeout: 300ms
`,
    );
    await adapter.waitFor('configuration reloaded', 15_000);
    // the new check's first run times out
    await vi.waitFor(
      async () =>
        expect(JSON.parse((await get('/readyz')).text).checks['app-slow:responseTime']?.[0].output).toBe(
          'timed out after 300ms',
        ),
      { timeout: 5000, interval: 50 },
    );
    const doc = JSON.parse((await get('/readyz')).text);
    expect(Object.keys(doc.checks)).toEqual([
      'http:responseTime',
      'tcp:responseTime',
      'app-slow:responseTime',
    ]);
    expect(doc.status).toBe('fail');
    expect(doc.checks['app-slow:responseTime'][0].output).toBe('timed out after 300ms');
    const m = await (await fetch(`${admin}/metrics`)).text();
    expect(m).not.toContain('check="app-errors"');

    writeFileSync(file, 'checks:\n  - { name: x, type: tcp }\n');
    await adapter.waitFor('configuration rejected', 15_000);
    expect(adapter.stdout()).toMatch(/checks\.0\.address/);
    expect(Object.keys(JSON.parse((await get('/readyz')).text).checks)).toContain('app-slow:responseTime');
  });

  it('--once runs each check a single time, prints the verdict and exits 0 or 1 (no ports taken)', async () => {
    const adminPort = new URL(admin).port;
    const pass = await run(node, [
      bin('health-adapter'),
      '--once',
      '--log-level',
      'silent',
      '--admin',
      `127.0.0.1:${adminPort}`, // held by the running adapter: --once must not bind it
      '--http',
      `http://127.0.0.1:${appPort}/`,
      '--failure-threshold',
      '5',
    ]);
    expect(pass.stdout).toMatch(/^\[\+\]http ok: HTTP 200 \[[\d.]+ ms\]\nreadyz check passed\n$/);
    expect(pass.code).toBe(0);
    const fail = await run(node, [
      bin('health-adapter'),
      '--once',
      '--log-level',
      'silent',
      '--http',
      `http://127.0.0.1:${appPort}/status/503`,
      '--success-threshold',
      '3',
    ]);
    expect(fail.stdout).toMatch(/^\[-\]http failed: HTTP 503 Service Unavailable .*\nreadyz check failed\n$/);
    expect(fail.code).toBe(1);
  });

  it('an exec check with successThreshold 2 and a 30 s interval passes within seconds, never "failed: exit 0"', async () => {
    const [probePort] = (await freePorts(1)) as [number];
    const dir = tempDir('health-exec-threshold');
    const checks = join(dir, 'checks.yaml');
    writeFileSync(
      checks,
      'checks:\n  - { name: disk, type: exec, command: "true", interval: 30s, successThreshold: 2 }\n',
    );
    const p = startComponent('health-adapter', [
      '--listen',
      `127.0.0.1:${probePort}`,
      '--admin',
      'off',
      '--config',
      checks,
    ]);
    try {
      await p.waitFor('probes on');
      const seen: string[] = [];
      const t0 = Date.now();
      await vi.waitFor(
        async () => {
          const r = await fetch(`http://127.0.0.1:${probePort}/readyz/disk`);
          const doc = JSON.parse(await r.text());
          seen.push(String(doc.output ?? doc.status));
          expect(r.status).toBe(200);
        },
        { timeout: 10_000, interval: 50 },
      );
      // confirmed by a second run at once, not after the 30 s interval
      expect(Date.now() - t0).toBeLessThan(10_000);
      for (const o of seen) expect(o).not.toMatch(/^exit 0$|failed/);
      const verbose = await fetch(`http://127.0.0.1:${probePort}/readyz?verbose`).then((r) => r.text());
      expect(verbose).toMatch(/\[\+\]disk ok: exit 0/);
    } finally {
      await p.kill();
    }
  });

  it('SIGTERM: /readyz turns 503 at once while draining, /livez stays 200', async () => {
    writeFileSync(file, 'interval: 200ms\n');
    await adapter.waitFor(/configuration reloaded[\s\S]*configuration reloaded/, 5000);
    await waitForHttp(`${base}/readyz`, 200, 5000);
    adapter.child.kill('SIGTERM');
    await adapter.waitFor('draining', 5000);
    // --shutdown-delay keeps the listener open while the endpoints are removed
    const r = await get('/readyz');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text).output).toBe('draining: the adapter is shutting down');
    expect((await get('/livez')).status).toBe(200);
    expect(await adapter.exited).toBe(0);
  });
});
