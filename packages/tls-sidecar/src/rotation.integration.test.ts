import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { freePort, type Proc, run, sleep } from '@dds/test-support';
import {
  get,
  metric,
  metrics,
  peerCertificate,
  type Sidecar,
  startDemo,
  startSidecar,
} from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, secretDir } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('certificate rotation by ..data symlink swap', () => {
  let ca: string;
  let a: Issued;
  let b: Issued;
  let c: Issued;
  let secret: ReturnType<typeof secretDir>;
  let demo: Proc;
  let sc: Sidecar;

  beforeAll(async () => {
    const pki = await makePki('rotation');
    ca = pki.ca.pem;
    [a, b, c] = await Promise.all([
      pki.issue('a', { cn: 'localhost', san: 'DNS:localhost', days: 1 }),
      pki.issue('b', { cn: 'localhost', san: 'DNS:localhost', days: 2 }),
      pki.issue('c', { cn: 'localhost', san: 'DNS:localhost', days: 3 }),
    ]);
    secret = secretDir({ 'tls.crt': a.cert, 'tls.key': a.key });
    const demoPort = await freePort();
    demo = await startDemo(demoPort);
    sc = await startSidecar([
      '--tls-dir',
      secret.dir,
      '--upstream',
      `http://127.0.0.1:${demoPort}`,
      '--reload-interval',
      '250ms',
    ]);
  });
  afterAll(async () => {
    await sc?.stop();
    await demo?.kill();
  });

  it('under continuous load: zero failed requests, new handshakes present the new certificate', async () => {
    expect((await peerCertificate(sc.port)).fingerprint256).toBe(fingerprint(a.pem));
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4, ca });
    const fresh = new Agent({ keepAlive: false, ca });
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const loop = async (agent: Agent) => {
      for (let i = 0; running && i < 100_000; i++) {
        try {
          const r = await get(sc.port, '/', { agent });
          if (r.status === 200) ok++;
          else failures.push(`status ${r.status}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const loops = [keepAlive, keepAlive, keepAlive, fresh, fresh].map(loop);
    // bounded waits: the machine may be loaded, so wait for counts, not for fixed times
    for (let i = 0; i < 100 && ok < 10; i++) await sleep(50);
    const okBefore = ok;
    secret.swap({ 'tls.crt': b.cert, 'tls.key': b.key });
    const t0 = Date.now();
    let seen = '';
    while (Date.now() - t0 < 5000) {
      seen = (await peerCertificate(sc.port)).fingerprint256;
      if (seen === fingerprint(b.pem)) break;
      await sleep(50);
    }
    expect(seen).toBe(fingerprint(b.pem));
    const okAtSwitch = ok;
    for (let i = 0; i < 100 && ok - okAtSwitch < 10; i++) await sleep(50);
    running = false;
    await Promise.all(loops);
    keepAlive.destroy();
    fresh.destroy();
    expect(failures).toEqual([]);
    expect(okBefore, 'requests before the swap').toBeGreaterThanOrEqual(10);
    expect(ok - okAtSwitch, 'requests after the new certificate was seen').toBeGreaterThanOrEqual(10);
    const m = await metrics(sc.admin);
    expect(metric(m, 'dds_tls_certificate_reloads_total{result="ok"}')).toBe(1);
    const notAfter = new Date(new X509Certificate(readFileSync(b.cert)).validTo).getTime() / 1000;
    expect(m).toContain(`subject="localhost"} ${notAfter}`);
  });

  it('a pair that does not match is refused: the previous certificate keeps serving, error logged and counted', async () => {
    secret.swap({ 'tls.crt': c.cert, 'tls.key': a.key });
    const t0 = Date.now();
    let rejected = 0;
    while (Date.now() - t0 < 5000 && rejected === 0) {
      await sleep(100);
      rejected = metric(await metrics(sc.admin), 'dds_tls_certificate_reloads_total{result="rejected"}');
    }
    expect(rejected).toBe(1);
    expect(sc.proc.stdout()).toContain('new certificate refused');
    expect(sc.proc.stdout()).toContain('does not match');
    expect((await peerCertificate(sc.port)).fingerprint256).toBe(fingerprint(b.pem));
    expect((await get(sc.port, '/', { ca })).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${sc.admin}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('a later good pair is picked up again', async () => {
    secret.swap({ 'tls.crt': c.cert, 'tls.key': c.key });
    const t0 = Date.now();
    let seen = '';
    while (Date.now() - t0 < 5000 && seen !== fingerprint(c.pem)) {
      await sleep(100);
      seen = (await peerCertificate(sc.port)).fingerprint256;
    }
    expect(seen).toBe(fingerprint(c.pem));
  });
  it('sessions from before a rotation still resume after it (ticket keys outlive the certificate)', async () => {
    const sess = join(secret.dir, '..session.pem');
    const sClient = (args: string[]) =>
      run(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${sc.port}`, '-servername', 'localhost', '-tls1_2', ...args],
        {
          timeoutMs: 10_000,
        },
      );
    expect((await sClient(['-sess_out', sess])).stdout).toMatch(/^New, TLSv1\.2/m);
    secret.swap({ 'tls.crt': a.cert, 'tls.key': a.key });
    let seen = '';
    for (let i = 0; i < 100 && seen !== fingerprint(a.pem); i++) {
      await sleep(50);
      seen = (await peerCertificate(sc.port)).fingerprint256;
    }
    expect(seen).toBe(fingerprint(a.pem));
    // the new certificate comes with a new SSL context (and an empty session-id cache), so
    // only the ticket can make this a resumption
    expect((await sClient(['-sess_in', sess])).stdout).toMatch(/^Reused, TLSv1\.2/m);
  });
});
