import { readFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { run } from '@dds/test-support';
import { echoClient, startGrpcEcho, tlsCredentials, unary } from '@dds/test-support/tls-sidecar/grpc';
import { metric, metrics, type Sidecar, startSidecar } from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, type Pki } from '@dds/test-support/tls-sidecar/pki';
import { type ClientReadableStream, status } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';

// Re-encryption: --upstream https:// with the app's own CA, name, SAN allow-list and an mTLS
// client certificate; HTTP/2 or HTTP/1.1 as the app's ALPN answer decides.

let front: Pki;
let back: Pki;
let sidecarCert: Issued;
let appCert: Issued;
let appSpiffe: Issued;
let toApp: Issued;

beforeAll(async () => {
  [front, back] = await Promise.all([makePki('front'), makePki('back')]);
  [sidecarCert, appCert, appSpiffe, toApp] = await Promise.all([
    front.issue('sidecar', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }),
    back.issue('app', { cn: 'app.internal', san: 'DNS:app.internal' }),
    back.issue('app-spiffe', { cn: 'payments', san: 'URI:spiffe://cluster/ns/pay/sa/payments' }),
    back.issue('to-app', { cn: 'sidecar-client', san: 'URI:spiffe://cluster/ns/shop/sa/web', client: true }),
  ]);
});

/** An app answering JSON about how it was reached: HTTP version, ALPN, client certificate. */
async function tlsApp(
  cert: Issued,
  opts: { h2: boolean; requireClientCert?: boolean },
): Promise<{ port: number; close(): void }> {
  const options = {
    cert: readFileSync(cert.cert),
    key: readFileSync(cert.key),
    ...(opts.requireClientCert ? { requestCert: true, rejectUnauthorized: true, ca: back.ca.pem } : {}),
  };
  const handler = (
    req: { httpVersion: string; headers: Record<string, unknown>; socket: unknown },
    res: { writeHead(s: number, h: object): void; end(b: string): void },
  ) => {
    const sock = req.socket as TLSSocket;
    const peer = sock.getPeerCertificate?.();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        httpVersion: req.httpVersion,
        alpn: sock.alpnProtocol,
        servername: (sock as TLSSocket & { servername?: string }).servername,
        clientCert: peer?.subject?.CN ?? null,
        forwardedProto: req.headers['x-forwarded-proto'],
      }),
    );
  };
  const server: Http2SecureServer | ReturnType<typeof createHttpsServer> = opts.h2
    ? createSecureServer({ ...options, allowHTTP1: true }, handler as never)
    : createHttpsServer(options, handler as never);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

async function viaSidecar(sc: Sidecar, path = '/') {
  const r = await run('curl', [
    '-sS',
    '--http1.1',
    '-w',
    '\n%{http_code}',
    '--cacert',
    front.ca.cert,
    '--resolve',
    `localhost:${sc.port}:127.0.0.1`,
    `https://localhost:${sc.port}${path}`,
  ]);
  const nl = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
}

const sidecarArgs = () => ['--cert', sidecarCert.cert, '--key', sidecarCert.key];

/** A sidecar re-encrypting to the app on `port`, trusting the app's CA; more flags after. */
const reEncrypting = (port: number, ...more: string[]) =>
  startSidecar([
    ...sidecarArgs(),
    '--upstream',
    `https://127.0.0.1:${port}`,
    '--upstream-ca',
    back.ca.cert,
    ...more,
  ]);

describe('--upstream https:// (re-encryption)', () => {
  it('HTTP/2 to the app when its ALPN offers h2, checked against --upstream-ca and --upstream-server-name', async () => {
    const app = await tlsApp(appCert, { h2: true });
    const sc = await reEncrypting(app.port, '--upstream-server-name', 'app.internal');
    try {
      const r = await viaSidecar(sc);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({
        httpVersion: '2.0',
        alpn: 'h2',
        servername: 'app.internal',
        forwardedProto: 'https',
      });
    } finally {
      await sc.stop();
      app.close();
    }
  });

  it('HTTP/1.1 to an app whose TLS offers only http/1.1', async () => {
    const app = await tlsApp(appCert, { h2: false });
    const sc = await reEncrypting(app.port, '--upstream-server-name', 'app.internal');
    try {
      for (let i = 0; i < 3; i++) {
        const r = await viaSidecar(sc);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({ httpVersion: '1.1', alpn: 'http/1.1' });
      }
    } finally {
      await sc.stop();
      app.close();
    }
  });

  it('mTLS to the app with --upstream-cert/--upstream-key; without them the app refuses (502)', async () => {
    const app = await tlsApp(appCert, { h2: true, requireClientCert: true });
    const name = ['--upstream-server-name', 'app.internal'];
    const withCert = await reEncrypting(
      app.port,
      ...name,
      '--upstream-cert',
      toApp.cert,
      '--upstream-key',
      toApp.key,
    );
    const without = await reEncrypting(app.port, ...name);
    try {
      const ok = await viaSidecar(withCert);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).clientCert).toBe('sidecar-client');
      const refused = await viaSidecar(without);
      expect(refused.status).toBe(502);
    } finally {
      await withCert.stop();
      await without.stop();
      app.close();
    }
  });

  it('--upstream-allow-san accepts an app by its SPIFFE ID (no DNS name needed) and refuses any other', async () => {
    const app = await tlsApp(appSpiffe, { h2: true });
    const good = await reEncrypting(app.port, '--upstream-allow-san', 'spiffe://cluster/ns/pay/sa/payments');
    const wrong = await reEncrypting(app.port, '--upstream-allow-san', 'spiffe://cluster/ns/pay/sa/other');
    const wrongCa = await startSidecar([...sidecarArgs(), '--upstream', `https://127.0.0.1:${app.port}`]);
    try {
      expect((await viaSidecar(good)).status).toBe(200);
      expect((await viaSidecar(wrong)).status).toBe(502);
      expect((await viaSidecar(wrongCa)).status).toBe(502);
      expect(metric(await metrics(wrong.admin), 'dds_upstream_errors_total{kind="error"}')).toBe(1);
    } finally {
      await good.stop();
      await wrong.stop();
      await wrongCa.stop();
      app.close();
    }
  });

  it('gRPC to a TLS gRPC app: unary and streaming, HTTP/2 both hops', async () => {
    const app = await startGrpcEcho({ tls: appCert });
    const sc = await reEncrypting(app.port, '--upstream-server-name', 'app.internal');
    try {
      const client = echoClient(sc.port, tlsCredentials(front.ca.cert));
      const r = await unary(client, { text: 're-encrypted' });
      expect(r.value?.text).toBe('re-encrypted');
      const call = client.ServerStream!({ count: 50, size: 1024 }) as ClientReadableStream<{ i: number }>;
      const seen: number[] = [];
      await new Promise<void>((resolve, reject) => {
        call.on('data', (m) => seen.push(m.i));
        call.on('status', (s) => (s.code === status.OK ? resolve() : reject(new Error(s.details))));
        call.on('error', reject);
      });
      client.close();
      expect(seen).toHaveLength(50);
    } finally {
      await sc.stop();
      await app.proc.kill('SIGKILL');
    }
  });

  it('upstream TLS flags are refused without --upstream https://', async () => {
    const r = await run(process.execPath, [
      'packages/tls-sidecar/dist/main.js',
      ...sidecarArgs(),
      '--upstream',
      'h2c://127.0.0.1:50051',
      '--upstream-ca',
      back.ca.cert,
      '--check-config',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('upstreamCa: upstream TLS settings need --upstream https://');
  });
});
