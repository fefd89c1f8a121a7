import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { freePort, type Proc, run, waitForHttp } from '@dds/test-support';
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
  beforeAll(async () => {
    pki = await makePki('workers');
    server = await pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
    const demoPort = await freePort();
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

  it('SIGTERM drains every worker and exits 0', async () => {
    sc.proc.child.kill('SIGTERM');
    expect(await sc.proc.exited).toBe(0);
  });
});
