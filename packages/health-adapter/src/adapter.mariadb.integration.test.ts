import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  freePorts,
  type Proc,
  run,
  type Service,
  sleep,
  startComponent,
  startMariaDb,
  tempDir,
  waitForHttp,
} from '@dds/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The "must show": MariaDB stopped -> /readyz 503 within interval x failureThreshold while
// /healthz stays 200; MariaDB back on the same port -> /readyz 200 again.
const INTERVAL = 300;
const FAILURES = 2;

describe('health-adapter against a real MariaDB', () => {
  let db: Service & { socket: string; url: string };
  let adapter: Proc;
  let hang: Server;
  let base: string;
  let admin: string;

  const get = async (path: string, url = base) => {
    const r = await fetch(url + path);
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  };
  const connections = async () => {
    const r = await run('mariadb', [
      '--no-defaults',
      `--socket=${db.socket}`,
      '-uroot',
      '-N',
      '-e',
      "SHOW GLOBAL STATUS LIKE 'Connections'",
    ]);
    return Number(r.stdout.trim().split(/\s+/)[1]);
  };

  beforeAll(async () => {
    db = await startMariaDb();
    const dir = tempDir('health-mysql');
    writeFileSync(join(dir, 'password'), 'ddspass\n');
    writeFileSync(join(dir, 'wrong'), 'not-the-password');
    // a server that accepts connections and never says a word: the MySQL handshake hangs
    hang = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => hang.once('listening', r));
    const hangPort = (hang.address() as { port: number }).port;
    const [probe, adm] = await freePorts(2);
    base = `http://127.0.0.1:${probe}`;
    admin = `http://127.0.0.1:${adm}`;
    writeFileSync(
      join(dir, 'checks.yaml'),
      `checks:
  - name: mysql-wrong-password
    type: mysql
    critical: false
    url: mysql://dds@127.0.0.1:${db.port}/dds
    passwordFile: ${join(dir, 'wrong')}
  - name: mysql-tls
    type: mysql
    critical: false
    tls: true
    url: mysql://dds@127.0.0.1:${db.port}/dds
    passwordFile: ${join(dir, 'password')}
  - name: mysql-hanging
    type: mysql
    critical: false
    timeout: 400ms
    url: mysql://dds@127.0.0.1:${hangPort}/dds
`,
    );
    adapter = startComponent('health-adapter', [
      '--listen',
      `127.0.0.1:${probe}`,
      '--admin',
      `127.0.0.1:${adm}`,
      '--mysql',
      `mysql://dds@127.0.0.1:${db.port}/dds`,
      '--mysql-password-file',
      join(dir, 'password'),
      '--query',
      'SELECT COUNT(*) FROM information_schema.tables',
      '--interval',
      `${INTERVAL}ms`,
      '--timeout',
      '1s',
      '--failure-threshold',
      String(FAILURES),
      '--config',
      join(dir, 'checks.yaml'),
    ]);
    await adapter.waitFor('probes on');
  }, 90_000);

  afterAll(async () => {
    await adapter?.kill();
    await db?.stop();
    hang?.close();
  });

  it('/readyz is 200 application/health+json with the MariaDB check passing', async () => {
    await waitForHttp(`${base}/readyz`, 200, 10_000);
    const r = await get('/readyz');
    expect(r.type).toBe('application/health+json');
    const doc = JSON.parse(r.text);
    const mysql = doc.checks['mysql:responseTime'][0];
    expect(mysql).toMatchObject({
      componentId: 'mysql',
      componentType: 'datastore',
      status: 'pass',
      observedUnit: 'ms',
    });
    expect(mysql.observedValue).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(mysql.time)).toBeLessThan(5000);
    // informational failures make the verdict "warn", never a 503
    expect(doc.status).toBe('warn');
  });

  it('reports bad credentials and a hanging server clearly, without affecting readiness', async () => {
    // each check's first run has ended (the hanging one at its timeout)
    await vi.waitFor(
      async () => {
        const wrong = JSON.parse((await get('/readyz/mysql-wrong-password')).text);
        expect(wrong.status).toBe('fail');
        expect(wrong.output).toMatch(/Access denied for user 'dds'/);
        // this MariaDB has no certificate: asking for TLS is refused, never silently downgraded
        const tls = JSON.parse((await get('/readyz/mysql-tls')).text);
        expect(tls.output).toBe('the server does not support TLS connections');
        const hung = await get('/readyz/mysql-hanging');
        expect(hung.status).toBe(503);
        expect(JSON.parse(hung.text).output).toBe('timed out after 400ms');
      },
      { timeout: 10_000, interval: 50 },
    );
    const metrics = (await get('/metrics', admin)).text;
    expect(metrics).toMatch(
      /dds_health_check_failures_total\{check="mysql-wrong-password",type="mysql",reason="auth"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /dds_health_check_failures_total\{check="mysql-hanging",type="mysql",reason="timeout"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /dds_health_check_failures_total\{check="mysql-tls",type="mysql",reason="tls"\} [1-9]/,
    );
    expect(adapter.stdout()).toMatch(/"reason":"auth".*Access denied/);
    // the password never reaches the logs or /config
    expect(adapter.stdout()).not.toContain('ddspass');
    expect((await get('/config', admin)).text).not.toContain('ddspass');
    expect((await get('/readyz')).status).toBe(200);
  });

  it('a probe storm is answered from memory and does not reach the database', async () => {
    const before = await connections();
    const t0 = Date.now();
    for (let batch = 0; batch < 20; batch++) {
      const rs = await Promise.all(Array.from({ length: 50 }, () => fetch(`${base}/readyz/mysql`)));
      for (const r of rs) {
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
    }
    const elapsed = Date.now() - t0;
    const after = await connections();
    // 1000 probes; each check connects once per interval (mysql, mysql-wrong-password and mysql-tls
    // reach this server; the hanging one does not)
    expect(after - before).toBeLessThanOrEqual(3 * (Math.ceil(elapsed / INTERVAL) + 2));
    expect(after - before).toBeLessThan(1000 / 4);
  });

  it('MariaDB stopped: /readyz turns 503 within interval x failureThreshold, /healthz stays 200', async () => {
    const port = db.port;
    await db.stop();
    const stopped = Date.now();
    let turned = 0;
    while (Date.now() - stopped < 10_000) {
      if ((await fetch(`${base}/readyz`)).status === 503) {
        turned = Date.now() - stopped;
        break;
      }
      await sleep(25);
    }
    expect(turned).toBeGreaterThan(0);
    // FAILURES runs, one interval apart, plus the timeout of a run in flight and scheduling slack
    // for a loaded CI machine; far below what a per-probe checker's timeouts would add up to
    expect(turned).toBeLessThan(INTERVAL * FAILURES + 1000 + 2500);
    const ready = JSON.parse((await get('/readyz')).text);
    expect(ready.status).toBe('fail');
    expect(ready.output).toBe('failing critical checks: mysql');
    expect(ready.checks['mysql:responseTime'][0].output).toMatch(/ECONNREFUSED/);
    for (const p of ['/healthz', '/livez']) {
      const r = await get(p);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text).status).toBe('pass');
    }
    const verbose = await get('/readyz?verbose');
    expect(verbose.status).toBe(503);
    expect(verbose.text).toMatch(/^\[-\]mysql failed: .*ECONNREFUSED/m);
    expect(verbose.text).toMatch(/readyz check failed\n$/);
    const metrics = (await get('/metrics', admin)).text;
    expect(metrics).toContain('dds_health_check_up{check="mysql",type="mysql",critical="true"} 0');
    expect(metrics).toMatch(/^dds_health_ready 0$/m);
    expect(metrics).toMatch(
      /dds_health_check_failures_total\{check="mysql",type="mysql",reason="connect"\} [1-9]/,
    );
    expect(adapter.stdout()).toMatch(/"level":"error".*check mysql fails: .*ECONNREFUSED/);

    // back on the same port: ready again
    db = await startMariaDb(port);
    const back = Date.now();
    await waitForHttp(`${base}/readyz`, 200, 15_000);
    expect(Date.now() - back).toBeLessThan(INTERVAL * 2 + 4000);
    expect(adapter.stdout()).toContain('check mysql passes');
  }, 60_000);
});
