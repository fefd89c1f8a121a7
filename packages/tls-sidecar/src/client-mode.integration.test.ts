import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { freePort, type Proc, run, type Service, sleep, startRedis } from '@dds/test-support';
import { echoClient, startGrpcEcho, unary } from '@dds/test-support/tls-sidecar/grpc';
import {
  metric,
  metrics,
  type Sidecar,
  startDemo,
  startSidecar,
} from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, type Pki, secretDir } from '@dds/test-support/tls-sidecar/pki';
import { type ClientReadableStream, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Pod-to-pod mTLS for two legacy apps: app -> client-mode sidecar (plain in, TLS out with the
// pod's certificate) -> server-mode sidecar (mTLS in, plain out) -> app. SPIFFE IDs on both sides.

const CLIENT_ID = 'spiffe://shop.test/ns/web/sa/frontend';
const SERVER_ID = 'spiffe://shop.test/ns/api/sa/orders';

let pki: Pki;
let rogue: Pki;
let serverPod: Issued;
let serverPod2: Issued;
let clientPod: Issued;
let clientPod2: Issued;
let otherClient: Issued;
let otherServer: Issued;

beforeAll(async () => {
  [pki, rogue] = await Promise.all([makePki('pods'), makePki('rogue-pods')]);
  [serverPod, serverPod2, clientPod, clientPod2, otherClient, otherServer] = await Promise.all([
    pki.issue('server-pod', { cn: 'orders', san: `URI:${SERVER_ID},DNS:orders.api.svc` }),
    pki.issue('server-pod-2', { cn: 'orders', san: `URI:${SERVER_ID},DNS:orders.api.svc` }),
    pki.issue('client-pod', { cn: 'frontend', san: `URI:${CLIENT_ID}`, client: true }),
    pki.issue('client-pod-2', { cn: 'frontend', san: `URI:${CLIENT_ID}`, client: true }),
    pki.issue('other-client', { cn: 'batch', san: 'URI:spiffe://shop.test/ns/batch/sa/jobs', client: true }),
    pki.issue('other-server', { cn: 'orders', san: 'URI:spiffe://shop.test/ns/api/sa/impostor' }),
  ]);
});

/** The server-mode sidecar in front of an app, accepting only the frontend's SPIFFE ID. */
const serverSide = (cert: { cert: string; key: string } | { tlsDir: string }, upstream: string) =>
  startSidecar([
    ...('tlsDir' in cert ? ['--tls-dir', cert.tlsDir] : ['--cert', cert.cert, '--key', cert.key]),
    '--upstream',
    upstream,
    '--client-auth',
    'require',
    '--client-ca',
    pki.ca.cert,
    '--allow-san',
    CLIENT_ID,
    '--reload-interval',
    '200ms',
  ]);

/** The client-mode sidecar next to the calling app, expecting the orders service's SPIFFE ID. */
const clientSide = (
  cert: { cert: string; key: string } | { tlsDir: string },
  upstream: string,
  allow = SERVER_ID,
) =>
  startSidecar([
    '--mode',
    'client',
    ...('tlsDir' in cert
      ? ['--tls-dir', cert.tlsDir]
      : ['--cert', cert.cert, '--key', cert.key, '--ca', pki.ca.cert]),
    '--upstream',
    upstream,
    '--allow-san',
    allow,
    '--reload-interval',
    '200ms',
  ]);

function httpGet(port: number, path: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One Redis command on a fresh plain connection; resolves with the raw reply, or the socket error. */
function redisCmd(port: number, cmd: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${cmd}\r\n`));
    let out = '';
    s.on('data', (d) => {
      out += d;
      if (out.endsWith('\r\n')) {
        s.end();
        resolve(out);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`socket error ${e.code}`));
    s.on('close', () => resolve(out));
  });
}

describe('HTTP: client mode -> server mode -> app', () => {
  let demo: Proc;
  let server: Sidecar;
  let client: Sidecar;
  beforeAll(async () => {
    const demoPort = await freePort();
    demo = await startDemo(demoPort);
    server = await serverSide(serverPod, `http://127.0.0.1:${demoPort}`);
    client = await clientSide(clientPod, `https://127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await client?.stop();
    await server?.stop();
    await demo?.kill();
  });

  it('a plain request from the app arrives with the pod identity verified on both sides', async () => {
    const r = await httpGet(client.port, '/echo');
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.body);
    const der = new X509Certificate(clientPod.pem).raw.toString('base64');
    expect(echo.headers['client-cert']).toBe(`:${der}:`);
    expect(echo.headers['x-forwarded-proto']).toBe('https');
  });

  it('the server side refuses a client whose SAN it does not allow (403), the client side an unexpected server (502)', async () => {
    const wrongClient = await clientSide(otherClient, `https://127.0.0.1:${server.port}`);
    const wrongServer = await clientSide(
      clientPod,
      `https://127.0.0.1:${server.port}`,
      'spiffe://shop.test/ns/api/sa/payments',
    );
    try {
      expect((await httpGet(wrongClient.port, '/echo')).status).toBe(403);
      expect((await httpGet(wrongServer.port, '/echo')).status).toBe(502);
      expect(
        metric(await metrics(server.admin), 'dds_tls_client_denied_total{reason="not_allowed"}'),
      ).toBeGreaterThanOrEqual(1);
      expect(wrongServer.proc.stdout()).toMatch(/not in the allowed names/);
    } finally {
      await wrongClient.stop();
      await wrongServer.stop();
    }
  });
});

describe('gRPC: an insecure gRPC client -> client mode (h2c in) -> server mode -> h2c app', () => {
  it('unary and streaming calls, and the app sees the pod certificate', async () => {
    const app = await startGrpcEcho();
    const server = await serverSide(serverPod, `h2c://127.0.0.1:${app.port}`);
    const client = await clientSide(clientPod, `https://127.0.0.1:${server.port}`);
    try {
      const grpc = echoClient(client.port);
      const r = await unary(grpc, { text: 'across pods' });
      expect(r.value?.text).toBe('across pods');
      expect(r.value?.metadata['client-cert']).toContain(
        new X509Certificate(clientPod.pem).raw.toString('base64'),
      );
      const call = grpc.ServerStream!({ count: 100, size: 512 }) as ClientReadableStream<{ i: number }>;
      let n = 0;
      await new Promise<void>((resolve, reject) => {
        call.on('data', () => n++);
        call.on('status', (s) => (s.code === status.OK ? resolve() : reject(new Error(s.details))));
        call.on('error', reject);
      });
      grpc.close();
      expect(n).toBe(100);
    } finally {
      await client.stop();
      await server.stop();
      await app.proc.kill('SIGKILL');
    }
  });
});

describe('TCP: redis-cli -> client mode (tls://) -> server mode (tcp://) -> redis-server', () => {
  let redis: Service;
  let server: Sidecar;
  let client: Sidecar;
  beforeAll(async () => {
    redis = await startRedis();
    server = await serverSide(serverPod, `tcp://127.0.0.1:${redis.port}`);
    client = await clientSide(clientPod, `tls://127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await client?.stop();
    await server?.stop();
    await redis?.stop();
  });

  it('plain redis-cli and redis-benchmark against the local port reach Redis over mTLS', async () => {
    const set = await run('redis-cli', ['-p', String(client.port), 'SET', 'pod', 'to-pod']);
    expect(set.stdout.trim(), set.stderr).toBe('OK');
    const b = await run(
      'redis-benchmark',
      ['-p', String(client.port), '-n', '5000', '-c', '10', '-t', 'set,get', '--csv'],
      { timeoutMs: 120_000 },
    );
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout.split('\n').filter((l) => /^"(SET|GET)"/.test(l))).toHaveLength(2);
    const m = await metrics(client.admin);
    expect(metric(m, 'dds_tls_upstream_handshakes_total{version="TLSv1.3"}')).toBeGreaterThanOrEqual(10);
    expect(metric(m, 'dds_tcp_bytes_total{direction="to_upstream"}')).toBeGreaterThan(5000 * 3);
    // the certificate client mode presents is watched for expiry like a served one
    const notAfter = new Date(new X509Certificate(clientPod.pem).validTo).getTime() / 1000;
    expect(m).toContain(
      `dds_tls_certificate_expiry_timestamp_seconds{cert="${clientPod.cert}",subject="frontend"} ${notAfter}`,
    );
    expect((await fetch(`http://127.0.0.1:${client.admin}/readyz`)).status).toBe(200);
  });

  it('a wrong SAN is refused on each side: the connection closes, nothing reaches Redis', async () => {
    const wrongClient = await clientSide(otherClient, `tls://127.0.0.1:${server.port}`);
    const impostor = await serverSide(otherServer, `tcp://127.0.0.1:${redis.port}`);
    const toImpostor = await clientSide(clientPod, `tls://127.0.0.1:${impostor.port}`);
    try {
      for (const sc of [wrongClient, toImpostor]) {
        const r = await redisCmd(sc.port, 'SET pod intruder');
        expect(r).not.toContain('+OK');
      }
      expect((await run('redis-cli', ['-p', String(redis.port), 'GET', 'pod'])).stdout.trim()).toBe('to-pod');
      expect(
        metric(
          await metrics(toImpostor.admin),
          'dds_tls_upstream_handshake_failures_total{reason="server_not_allowed"}',
        ),
      ).toBe(1);
      expect(
        metric(await metrics(server.admin), 'dds_tls_client_denied_total{reason="not_allowed"}'),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await wrongClient.stop();
      await toImpostor.stop();
      await impostor.stop();
    }
  });
});

describe('certificate rotation on each side during load', () => {
  it('HTTP and TCP through client -> server: no failed request while both pods rotate (..data swap)', async () => {
    const demoPort = await freePort();
    const demo = await startDemo(demoPort);
    const redis = await startRedis();
    const serverSecret = secretDir({
      'tls.crt': serverPod.cert,
      'tls.key': serverPod.key,
      'ca.crt': pki.ca.cert,
    });
    const clientSecret = secretDir({
      'tls.crt': clientPod.cert,
      'tls.key': clientPod.key,
      'ca.crt': pki.ca.cert,
    });
    const httpServer = await serverSide({ tlsDir: serverSecret.dir }, `http://127.0.0.1:${demoPort}`);
    const tcpServer = await serverSide({ tlsDir: serverSecret.dir }, `tcp://127.0.0.1:${redis.port}`);
    const httpClient = await clientSide({ tlsDir: clientSecret.dir }, `https://127.0.0.1:${httpServer.port}`);
    const tcpClient = await clientSide({ tlsDir: clientSecret.dir }, `tls://127.0.0.1:${tcpServer.port}`);
    const failures: string[] = [];
    let ok = 0;
    let running = true;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
    const fresh = new Agent({ keepAlive: false });
    const seenClientCerts = new Set<string>();
    const httpLoop = async (agent: Agent) => {
      while (running) {
        try {
          const r = await httpGet(httpClient.port, '/echo', agent);
          if (r.status !== 200) failures.push(`http ${r.status}`);
          else {
            ok++;
            seenClientCerts.add(JSON.parse(r.body).headers['client-cert']);
          }
        } catch (e) {
          failures.push(`http ${(e as Error).message}`);
        }
      }
    };
    const tcpLoop = async () => {
      while (running) {
        try {
          const r = await redisCmd(tcpClient.port, 'PING');
          if (r !== '+PONG\r\n') failures.push(`tcp ${JSON.stringify(r)}`);
          else ok++;
        } catch (e) {
          failures.push(`tcp ${(e as Error).message}`);
        }
      }
    };
    const loops = [httpLoop(keepAlive), httpLoop(fresh), tcpLoop(), tcpLoop()];
    try {
      for (let i = 0; i < 200 && ok < 40; i++) await sleep(50);
      serverSecret.swap({ 'tls.crt': serverPod2.cert, 'tls.key': serverPod2.key, 'ca.crt': pki.ca.cert });
      clientSecret.swap({ 'tls.crt': clientPod2.cert, 'tls.key': clientPod2.key, 'ca.crt': pki.ca.cert });
      const reloaded = async (sc: Sidecar) =>
        metric(await metrics(sc.admin), 'dds_tls_certificate_reloads_total{result="ok"}') >= 1;
      for (let i = 0; i < 200; i++) {
        const all = await Promise.all([httpServer, tcpServer, httpClient, tcpClient].map(reloaded));
        if (all.every(Boolean)) break;
        await sleep(50);
      }
      const der2 = `:${new X509Certificate(clientPod2.pem).raw.toString('base64')}:`;
      for (let i = 0; i < 200 && !seenClientCerts.has(der2); i++) await sleep(50);
      const okAfter = ok;
      for (let i = 0; i < 200 && ok - okAfter < 40; i++) await sleep(50);
      running = false;
      await Promise.all(loops);
      expect(failures).toEqual([]);
      expect(seenClientCerts.has(der2), 'the server side saw the rotated client certificate').toBe(true);
      expect(ok - okAfter).toBeGreaterThanOrEqual(40);
      for (const sc of [httpServer, tcpServer, httpClient, tcpClient])
        expect(metric(await metrics(sc.admin), 'dds_tls_certificate_reloads_total{result="ok"}')).toBe(1);
    } finally {
      running = false;
      await Promise.all(loops);
      keepAlive.destroy();
      fresh.destroy();
      for (const sc of [httpClient, tcpClient, httpServer, tcpServer]) await sc.stop();
      await redis.stop();
      await demo.kill();
    }
  });
});

describe('client mode configuration', () => {
  it.each([
    [['--upstream', 'tcp://127.0.0.1:6379'], /upstream: --mode client takes https:\/\/, tls:\/\//],
    [
      ['--upstream', 'tls://127.0.0.1:6379', '--client-auth', 'require'],
      /clientAuth: --client-auth is for --mode server/,
    ],
    [
      ['--upstream', 'tls://127.0.0.1:6379', '--upstream-ca', '/x'],
      /upstreamCa: --upstream-ca \(client mode verifies the server with --ca\)/,
    ],
    [
      ['--upstream', 'tls://127.0.0.1:6379', '--cert', '/x'],
      /key: the client certificate needs both --cert and --key/,
    ],
  ])('%j is refused with exit 2 naming the field', async (args, message) => {
    const r = await run(process.execPath, [
      'packages/tls-sidecar/dist/main.js',
      '--mode',
      'client',
      ...(args as string[]),
      '--check-config',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('a certificate whose CA is not the one given is refused by the server (client side unaffected)', async () => {
    const stranger = await rogue.issue('stranger', { cn: 'frontend', san: `URI:${CLIENT_ID}`, client: true });
    const redis = await startRedis();
    const server = await serverSide(serverPod, `tcp://127.0.0.1:${redis.port}`);
    const client = await startSidecar([
      '--mode',
      'client',
      '--cert',
      stranger.cert,
      '--key',
      stranger.key,
      '--ca',
      pki.ca.cert,
      '--upstream',
      `tls://127.0.0.1:${server.port}`,
      '--allow-san',
      SERVER_ID,
    ]);
    try {
      expect(await redisCmd(client.port, 'PING')).not.toContain('PONG');
      expect(
        metric(await metrics(server.admin), 'dds_tls_handshake_failures_total{reason="client_cert_invalid"}'),
      ).toBe(1);
    } finally {
      await client.stop();
      await server.stop();
      await redis.stop();
    }
  });
});
