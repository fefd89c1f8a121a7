import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { join } from 'node:path';
import { freePort, type Proc, run } from '@dds/test-support';
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
import { WebSocket } from 'ws';

let pki: Pki;
let rogue: Pki;
let server: Issued;
let clientA: Issued;
let clientB: Issued;
let clientR: Issued;
let demo: Proc;
let demoPort: number;

beforeAll(async () => {
  [pki, rogue] = await Promise.all([makePki('mtls'), makePki('rogue')]);
  [server, clientA, clientB, clientR] = await Promise.all([
    pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }),
    pki.issue('client-a', {
      cn: 'client-a',
      san: 'URI:spiffe://dds/client-a,DNS:client-a.example',
      client: true,
    }),
    pki.issue('client-b', { cn: 'client-b', san: 'DNS:client-b.example', client: true }),
    rogue.issue('client-r', { cn: 'client-a', san: 'URI:spiffe://dds/client-a', client: true }),
  ]);
  demoPort = await freePort();
  demo = await startDemo(demoPort);
});
afterAll(async () => {
  await demo?.kill();
});

const der64 = (c: Issued) => new X509Certificate(c.pem).raw.toString('base64');

describe('client-auth require with an allow-list', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    sc = await startSidecar([
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--upstream',
      `http://127.0.0.1:${demoPort}`,
      '--client-auth',
      'require',
      '--client-ca',
      pki.ca.cert,
      '--allow-san',
      'spiffe://dds/client-a',
      '--xfcc',
    ]);
  });
  afterAll(async () => sc?.stop());

  const curl = (args: string[]) =>
    run('curl', ['-sS', '--cacert', pki.ca.cert, '--resolve', `localhost:${sc.port}:127.0.0.1`, ...args]);

  it('an allowed client reaches the app; Client-Cert and XFCC carry its identity; forged copies are gone', async () => {
    const r = await curl([
      '--cert',
      clientA.cert,
      '--key',
      clientA.key,
      '-H',
      'Client-Cert: :Zm9yZ2Vk:',
      '-H',
      'X-Forwarded-Client-Cert: Hash=forged;Subject="CN=admin"',
      `https://localhost:${sc.port}/echo`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout).headers;
    expect(h['client-cert']).toBe(`:${der64(clientA)}:`);
    const hash = new X509Certificate(clientA.pem).fingerprint256.replace(/:/g, '').toLowerCase();
    expect(h['x-forwarded-client-cert']).toBe(
      `Hash=${hash};Subject="CN=client-a,O=dds test";URI=spiffe://dds/client-a;DNS=client-a.example`,
    );
  });

  it('HTTP/2 requests carry the identity too', async () => {
    const session = h2connect(`https://localhost:${sc.port}`, {
      ca: pki.ca.pem,
      cert: clientA.pem,
      key: await readKey(clientA),
      host: '127.0.0.1',
    } as never);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const s = session.request({ ':path': '/echo', 'client-cert': ':Zm9yZ2Vk:' });
        let out = '';
        s.on('data', (d: Buffer) => (out += d));
        s.on('end', () => resolve(out));
        s.on('error', reject);
      });
      expect(JSON.parse(body).headers['client-cert']).toBe(`:${der64(clientA)}:`);
    } finally {
      session.close();
    }
  });

  it('a verified client outside the allow-list gets 403, HTTP and WebSocket alike', async () => {
    const r = await curl([
      '--cert',
      clientB.cert,
      '--key',
      clientB.key,
      '-w',
      '\n%{http_code}',
      `https://localhost:${sc.port}/echo`,
    ]);
    expect(r.stdout).toBe('client certificate not allowed\n\n403');
    const ws = new WebSocket(`wss://localhost:${sc.port}/ws`, {
      ca: pki.ca.pem,
      cert: clientB.pem,
      key: await readKey(clientB),
    });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    ws.terminate();
    expect(status).toBe(403);
    expect(
      metric(await metrics(sc.admin), 'dds_tls_client_denied_total{reason="not_allowed"}'),
    ).toBeGreaterThanOrEqual(2);
  });

  it('no client certificate, or one from another CA: the handshake is refused', async () => {
    const none = await curl([`https://localhost:${sc.port}/echo`]);
    expect(none.code).not.toBe(0);
    expect(none.stdout).toBe('');
    const forged = await curl([
      '--cert',
      clientR.cert,
      '--key',
      clientR.key,
      `https://localhost:${sc.port}/echo`,
    ]);
    expect(forged.code).not.toBe(0);
    expect(forged.stdout).toBe('');
    const m = await metrics(sc.admin);
    expect(
      metric(m, 'dds_tls_handshake_failures_total{reason="client_cert_missing"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metric(m, 'dds_tls_handshake_failures_total{reason="client_cert_invalid"}'),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('Client-Cert-Chain', () => {
  let sc: Sidecar;
  let inter: Issued;
  let leaf: Issued;
  beforeAll(async () => {
    inter = await pki.issue('intermediate', { cn: 'mtls intermediate', intermediate: true });
    leaf = await pki.issue('client-c', {
      cn: 'client-c',
      san: 'DNS:client-c.example',
      client: true,
      issuer: inter,
    });
    sc = await startSidecar([
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--upstream',
      `http://127.0.0.1:${demoPort}`,
      '--client-auth',
      'require',
      '--client-ca',
      pki.ca.cert,
      '--client-cert-chain-header',
    ]);
  });
  afterAll(async () => sc?.stop());

  it('carries the intermediate the client sent, not the root', async () => {
    const chainFile = join(pki.dir, 'client-c-chain.crt');
    writeFileSync(chainFile, leaf.pem + inter.pem);
    const r = await run('curl', [
      '-sS',
      '--cacert',
      pki.ca.cert,
      '--resolve',
      `localhost:${sc.port}:127.0.0.1`,
      '--cert',
      chainFile,
      '--key',
      leaf.key,
      `https://localhost:${sc.port}/echo`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout).headers;
    expect(h['client-cert']).toBe(`:${der64(leaf)}:`);
    expect(h['client-cert-chain']).toBe(`:${der64(inter)}:`);
  });
});

describe('client-auth optional', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    sc = await startSidecar([
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--upstream',
      `http://127.0.0.1:${demoPort}`,
      '--client-auth',
      'optional',
      '--client-ca',
      pki.ca.cert,
    ]);
  });
  afterAll(async () => sc?.stop());

  it('anonymous clients pass without identity; forged headers are still stripped', async () => {
    const r = await get(sc.port, '/echo', { ca: pki.ca.pem, headers: { 'client-cert': ':Zm9yZ2Vk:' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).headers['client-cert']).toBeUndefined();
  });

  it('a client with a certificate is identified', async () => {
    const r = await get(sc.port, '/echo', { ca: pki.ca.pem, cert: clientB.pem, key: await readKey(clientB) });
    expect(JSON.parse(r.body.toString()).headers['client-cert']).toBe(`:${der64(clientB)}:`);
  });

  it('a certificate that does not verify is refused: the connection closes after the handshake', async () => {
    await expect(
      get(sc.port, '/echo', { ca: pki.ca.pem, cert: clientR.pem, key: await readKey(clientR) }),
    ).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(
      metric(await metrics(sc.admin), 'dds_tls_handshake_failures_total{reason="client_cert_invalid"}'),
    ).toBe(1);
  });
});

async function readKey(c: Issued): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(c.key, 'utf8');
}
