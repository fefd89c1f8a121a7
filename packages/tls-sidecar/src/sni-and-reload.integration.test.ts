import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
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
import { type Issued, makePki, type Pki, secretDir } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let pki: Pki;
let main: Issued;
let other: Issued;
let third: Issued;
let demo: Proc;
let demoPort: number;
const fp = (c: Issued) => new X509Certificate(c.pem).fingerprint256;

beforeAll(async () => {
  pki = await makePki('sni');
  [main, other, third] = await Promise.all([
    pki.issue('main', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }),
    pki.issue('other', { cn: 'other.example', san: 'DNS:other.example,DNS:*.wild.example' }),
    pki.issue('third', { cn: 'localhost', san: 'DNS:localhost' }),
  ]);
  demoPort = await freePort();
  demo = await startDemo(demoPort);
});
afterAll(async () => demo?.kill());

describe('several certificates chosen by SNI', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    const dir = secretDir({ 'tls.crt': other.cert, 'tls.key': other.key });
    sc = await startSidecar([
      '--cert',
      main.cert,
      '--key',
      main.key,
      '--sni-dirs',
      dir.dir,
      '--upstream',
      `http://127.0.0.1:${demoPort}`,
    ]);
  });
  afterAll(async () => sc?.stop());

  it('serves the certificate whose DNS names match, the default one otherwise', async () => {
    expect((await peerCertificate(sc.port, 'other.example')).fingerprint256).toBe(fp(other));
    expect((await peerCertificate(sc.port, 'a.wild.example')).fingerprint256).toBe(fp(other));
    expect((await peerCertificate(sc.port, 'localhost')).fingerprint256).toBe(fp(main));
    expect((await peerCertificate(sc.port, 'unknown.example')).fingerprint256).toBe(fp(main));
    const noSni = await run('openssl', ['s_client', '-connect', `127.0.0.1:${sc.port}`, '-noservername'], {
      timeoutMs: 10_000,
    });
    expect(noSni.stdout).toContain('CN = localhost');
    const r = await get(sc.port, '/', { ca: pki.ca.pem, servername: 'other.example' });
    expect(r.status).toBe(200);
    const m = await metrics(sc.admin);
    expect(m).toContain('subject="other.example"}');
  });
});

describe('config file reload and drain', () => {
  let sc: Sidecar;
  let file: string;
  const yaml = (o: Record<string, string>) =>
    Object.entries({ upstream: `http://127.0.0.1:${demoPort}`, cert: main.cert, key: main.key, ...o })
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n');
  beforeAll(async () => {
    file = join(pki.dir, 'sidecar.yaml');
    writeFileSync(file, yaml({}));
    sc = await startSidecar(['--config', file, '--reload-interval', '200ms']);
  });
  afterAll(async () => sc?.stop());

  it('applies HSTS and a new certificate from the file; refuses a listener change and keeps serving', async () => {
    expect(
      (await get(sc.port, '/', { ca: pki.ca.pem })).headers['strict-transport-security'],
    ).toBeUndefined();
    writeFileSync(file, yaml({ hsts: 'max-age=60', cert: third.cert, key: third.key }));
    let seen = '';
    for (let i = 0; i < 100 && seen !== fp(third); i++) {
      await sleep(50);
      seen = (await peerCertificate(sc.port)).fingerprint256;
    }
    expect(seen).toBe(fp(third));
    expect((await get(sc.port, '/', { ca: pki.ca.pem })).headers['strict-transport-security']).toBe(
      'max-age=60',
    );

    writeFileSync(
      file,
      yaml({ hsts: 'max-age=60', cert: third.cert, key: third.key, redirectListen: '127.0.0.1:1' }),
    );
    let failures = 0;
    for (let i = 0; i < 100 && failures === 0; i++) {
      await sleep(50);
      failures = metric(await metrics(sc.admin), 'dds_config_reload_failures_total');
    }
    expect(failures).toBe(1);
    expect(sc.proc.stdout()).toContain('redirectListen cannot change on reload');
    expect((await get(sc.port, '/', { ca: pki.ca.pem })).status).toBe(200);
  });

  it('SIGTERM: readiness drops, an in-flight request completes, exit 0', async () => {
    expect((await fetch(`http://127.0.0.1:${sc.admin}/readyz`)).status).toBe(200);
    const slow = get(sc.port, '/slow?ms=1500', { ca: pki.ca.pem });
    // in flight: the sidecar holds the client's connection (the app answers after 1.5 s)
    while (metric(await metrics(sc.admin), 'dds_active_connections') < 1) await sleep(20);
    sc.proc.child.kill('SIGTERM');
    await sc.proc.waitFor('"msg":"draining"');
    const ready = await fetch(`http://127.0.0.1:${sc.admin}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('draining');
    const r = await slow;
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('slept 1500ms\n');
    expect(await sc.proc.exited).toBe(0);
  });
});
