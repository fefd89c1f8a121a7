import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { decodeHealthRequest, encodeHealthResponse } from '@dds/core/protobuf/grpc-health';
import { freePort, type Proc, selfSignedCert, startComponent, tempDir, waitForHttp } from '@dds/test-support';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkSchema } from './check-spec.js';
import { createProbe } from './create-probe.js';
import type { CheckFailure, Probe } from './probe.js';

const probe = (spec: Record<string, unknown>): Probe =>
  createProbe({
    ...checkSchema.parse({ name: 'c', ...spec }),
    interval: 1000,
    timeout: 1000,
    successThreshold: 1,
    failureThreshold: 1,
    critical: true,
  });
const runFor = (p: Probe, ms = 2000) => p.run(AbortSignal.timeout(ms));
const failure = async (p: Probe, ms = 2000): Promise<CheckFailure> => {
  try {
    await runFor(p, ms);
  } catch (e) {
    return e as CheckFailure;
  }
  throw new Error('the check passed');
};

describe('HTTP and TCP checks against the demo app', () => {
  let app: Proc;
  let base: string;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = startComponent('demo-app', [
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      'off',
      '--message',
      'all systems go',
    ]);
    await waitForHttp(`${base}/`);
  });
  afterAll(async () => {
    await app?.kill();
  });

  it('status ranges', async () => {
    await expect(runFor(probe({ type: 'http', url: `${base}/status/204` }))).resolves.toBe('HTTP 204');
    await expect(runFor(probe({ type: 'http', url: `${base}/status/302` }))).resolves.toBe('HTTP 302');
    expect(await failure(probe({ type: 'http', url: `${base}/status/500` }))).toMatchObject({
      reason: 'unhealthy',
      message: 'HTTP 500 Internal Server Error',
    });
    await expect(
      runFor(probe({ type: 'http', url: `${base}/status/503`, expectStatus: '200,503' })),
    ).resolves.toBe('HTTP 503');
    expect(
      await failure(probe({ type: 'http', url: `${base}/status/302`, expectStatus: '200-299' })),
    ).toMatchObject({
      message: 'HTTP 302 Found',
    });
  });

  it('body regex, read only up to maxBody', async () => {
    await expect(runFor(probe({ type: 'http', url: `${base}/`, bodyRegex: 'systems go' }))).resolves.toMatch(
      /body matches/,
    );
    const f = await failure(probe({ type: 'http', url: `${base}/`, bodyRegex: '^ok$' }));
    expect(f.message).toBe('HTTP 200, body does not match /^ok$/: "all systems go\\n"');
    // 50 MB body: the check stops reading at maxBody and still answers fast
    const t0 = Date.now();
    const big = await failure(
      probe({ type: 'http', url: `${base}/bytes/50000000`, bodyRegex: 'b', maxBody: 1024 }),
    );
    expect(big.message).toMatch(/^HTTP 200, body does not match \/b\/: "a{120}"$/);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a slow endpoint times out; a closed port is a connect failure', async () => {
    const t0 = Date.now();
    expect(await failure(probe({ type: 'http', url: `${base}/slow?ms=5000` }), 300)).toMatchObject({
      reason: 'timeout',
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    const closed = await freePort();
    expect(await failure(probe({ type: 'http', url: `http://127.0.0.1:${closed}/` }))).toMatchObject({
      reason: 'connect',
    });
  });

  it('TCP connect', async () => {
    await expect(runFor(probe({ type: 'tcp', address: `127.0.0.1:${port}` }))).resolves.toBe('connected');
    const closed = await freePort();
    const f = await failure(probe({ type: 'tcp', address: `127.0.0.1:${closed}` }));
    expect(f).toMatchObject({ reason: 'connect', message: `connect ECONNREFUSED 127.0.0.1:${closed}` });
  });
});

describe('exec check', () => {
  const dir = tempDir('health-exec');

  it('exit 0 passes with its output; another exit code fails with it', async () => {
    await expect(runFor(probe({ type: 'exec', command: 'echo fine' }))).resolves.toBe('exit 0: fine');
    await expect(runFor(probe({ type: 'exec', command: ['/bin/echo', 'no', 'shell;'] }))).resolves.toBe(
      'exit 0: no shell;',
    );
    const f = await failure(probe({ type: 'exec', command: 'echo disk full >&2; exit 2' }));
    expect(f).toMatchObject({
      reason: 'unhealthy',
      message: '"echo disk full >&2; exit 2" exited 2: disk full',
    });
    const missing = await failure(probe({ type: 'exec', command: ['/no/such/binary'] }));
    expect(missing.message).toMatch(/^cannot run \/no\/such\/binary: spawn \/no\/such\/binary ENOENT/);
  });

  it('caps huge output and keeps memory bounded', async () => {
    const f = await failure(
      probe({ type: 'exec', command: 'yes | head -c 20000000; exit 1', maxOutput: 100 }),
      10_000,
    );
    expect(f.message).toBe(
      `"yes | head -c 20000000; exit 1" exited 1: ${'y\n'.repeat(50).trim()} ... (19999900 more bytes dropped)`,
    );
  });

  it('a hanging command is killed with its whole process group at the timeout', async () => {
    const pidFile = join(dir, 'pid');
    const t0 = Date.now();
    const f = await failure(
      probe({ type: 'exec', command: `sleep 30 & echo $! > ${pidFile}; echo started; wait` }),
      400,
    );
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(f.reason).toBe('timeout');
    expect(f.message).toMatch(/timed out: started$/);
    expect(existsSync(pidFile)).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // gone, or a zombie waiting for this container's init to reap it: not running either way
    // (the kill is sent at the timeout; its delivery is waited for)
    await vi.waitFor(
      () => {
        const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
        expect(stat === '' || / Z /.test(stat), stat).toBe(true);
      },
      { timeout: 2000, interval: 10 },
    );
  });
});

describe('gRPC health check against a real grpc-js server', () => {
  let server: grpc.Server;
  let address: string;
  const statuses = new Map<string, number>([
    ['', 1],
    ['db', 2],
  ]);
  const health: grpc.ServiceDefinition = {
    Check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  };

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(health, {
      Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const name = decodeHealthRequest(call.request);
        const status = statuses.get(name);
        if (status === undefined) cb({ code: grpc.status.NOT_FOUND, details: `unknown service ${name}` });
        else if (name === 'slow') setTimeout(() => cb(null, encodeHealthResponse(1)), 5000);
        else cb(null, encodeHealthResponse(status));
      },
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => server?.forceShutdown());

  it('SERVING passes; NOT_SERVING and unknown services fail', async () => {
    const whole = probe({ type: 'grpc', address });
    await expect(runFor(whole)).resolves.toBe('SERVING');
    statuses.set('', 2);
    expect(await failure(whole)).toMatchObject({ reason: 'unhealthy', message: 'server is NOT_SERVING' });
    statuses.set('', 1);
    await expect(runFor(whole)).resolves.toBe('SERVING');
    whole.close?.();
    expect(await failure(probe({ type: 'grpc', address, service: 'db' }))).toMatchObject({
      message: 'db is NOT_SERVING',
    });
    expect(await failure(probe({ type: 'grpc', address, service: 'nope' }))).toMatchObject({
      message: 'NOT_FOUND: unknown service nope',
    });
  });

  it('TLS: verified against a CA file; an untrusted server certificate is a tls failure', async () => {
    const cert = selfSignedCert();
    const secure = new grpc.Server();
    secure.addService(health, {
      Check: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, encodeHealthResponse(1)),
    });
    const creds = grpc.ServerCredentials.createSsl(null, [
      { private_key: Buffer.from(cert.keyPem), cert_chain: Buffer.from(cert.pem) },
    ]);
    const port = await new Promise<number>((res, rej) =>
      secure.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))),
    );
    try {
      const address = `127.0.0.1:${port}`;
      await expect(runFor(probe({ type: 'grpc', address, tls: true, tlsCa: cert.cert }))).resolves.toBe(
        'SERVING',
      );
      const f = await failure(probe({ type: 'grpc', address, tls: true }));
      expect(f.reason).toBe('tls');
      expect(f.message).toMatch(/^UNAVAILABLE: .*self-signed certificate/);
      // plaintext against a TLS port fails, it does not hang past the deadline
      expect((await failure(probe({ type: 'grpc', address }))).reason).not.toBe('unhealthy');
    } finally {
      secure.forceShutdown();
    }
  });

  it('a server without the health service, a closed port and a silent one fail clearly', async () => {
    const bare = new grpc.Server();
    const port = await new Promise<number>((res, rej) =>
      bare.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    try {
      const f = await failure(probe({ type: 'grpc', address: `127.0.0.1:${port}` }));
      expect(f.reason).toBe('unhealthy');
      expect(f.message).toMatch(/^UNIMPLEMENTED: .*\(the server has no grpc.health.v1 service\)$/);
    } finally {
      bare.forceShutdown();
    }
    const closed = await freePort();
    expect(await failure(probe({ type: 'grpc', address: `127.0.0.1:${closed}` }))).toMatchObject({
      reason: 'connect',
    });
    const silent: Server = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    try {
      const f = await failure(
        probe({ type: 'grpc', address: `127.0.0.1:${(silent.address() as { port: number }).port}` }),
      );
      expect(f.reason).toBe('timeout');
    } finally {
      silent.close();
    }
  });
});
