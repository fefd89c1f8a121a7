import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { freePort, type Proc, run, sleep, waitForHttp } from '@dds/test-support';
import { pidsConnectedTo } from '@dds/test-support/lifecycle';
import {
  get,
  metric,
  metrics,
  type Sidecar,
  startDemo,
  startSidecar,
} from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, type Pki } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('--workers 2', () => {
  let pki: Pki;
  let server: Issued;
  let demo: Proc;
  let sc: Sidecar;
  let demoPort = 0;
  beforeAll(async () => {
    pki = await makePki('workers');
    server = await pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
    demoPort = await freePort();
    demo = await startDemo(demoPort);
    sc = await startSidecar([
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--upstream',
      `http://127.0.0.1:${demoPort}`,
      '--workers',
      '2',
    ]);
    await waitForHttp(`http://127.0.0.1:${sc.admin}/readyz`);
  });
  afterAll(async () => {
    await sc?.stop();
    await demo?.kill();
  });

  it('serves from both workers; the primary reports aggregated metrics', async () => {
    const agent = new Agent({ keepAlive: false, ca: pki.ca.pem });
    for (let i = 0; i < 20; i++) expect((await get(sc.port, '/', { agent })).status).toBe(200);
    // both workers forwarded: each holds its own kept-alive connection to the app
    const forwarding = await pidsConnectedTo(demoPort);
    expect(forwarding.size).toBe(2);
    expect(forwarding.has(sc.proc.child.pid!)).toBe(false);
    const m = await metrics(sc.admin);
    expect(metric(m, 'dds_http_requests_total{protocol="http/1.1",code="2xx"}')).toBe(20);
    const notAfter = new Date(new X509Certificate(readFileSync(server.cert)).validTo).getTime() / 1000;
    expect(
      metric(m, `dds_tls_certificate_expiry_timestamp_seconds{cert="${server.cert}",subject="localhost"}`),
    ).toBe(notAfter);
  });

  it('returning clients resume their TLS session whichever worker they reach', async () => {
    const sess = join(pki.dir, 'workers-sess.pem');
    const sClient = (args: string[]) =>
      run('openssl', ['s_client', '-connect', `127.0.0.1:${sc.port}`, '-tls1_2', ...args], {
        timeoutMs: 10_000,
      });
    await sClient(['-sess_out', sess]);
    for (let i = 0; i < 4; i++)
      expect((await sClient(['-sess_in', sess])).stdout).toMatch(/^Reused, TLSv1\.2/m);
  });

  it('SIGTERM drains every worker: requests in flight on both complete, then exit 0', async () => {
    const agent = new Agent({ keepAlive: false, ca: pki.ca.pem });
    const slow = Array.from({ length: 4 }, () => get(sc.port, '/slow?ms=1500', { agent }));
    // in flight: the workers hold the four client connections (the app answers after 1.5 s)
    while (metric(await metrics(sc.admin), 'dds_active_connections') < 4) await sleep(20);
    sc.proc.child.kill('SIGTERM');
    const answers = await Promise.all(slow);
    expect(answers.map((a) => [a.status, a.body.toString()])).toEqual(
      Array.from({ length: 4 }, () => [200, 'slept 1500ms\n']),
    );
    expect(await sc.proc.exited).toBe(0);
    const drained = sc.proc
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"drained; exiting"'))
      .map((l) => (JSON.parse(l) as { pid: number }).pid);
    expect(new Set(drained).size).toBe(3); // both workers, then the primary
  });
});
