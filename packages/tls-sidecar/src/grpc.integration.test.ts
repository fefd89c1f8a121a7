import { X509Certificate } from 'node:crypto';
import { freePort, type Proc, run } from '@dds/test-support';
import { echoClient, startGrpcEcho, tlsCredentials, unary } from '@dds/test-support/tls-sidecar/grpc';
import { metric, metrics, type Sidecar, startSidecar } from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, type Pki } from '@dds/test-support/tls-sidecar/pki';
import { type ClientDuplexStream, type ClientReadableStream, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let pki: Pki;
let server: Issued;
let clientA: Issued;
let clientB: Issued;
let app: { port: number; proc: Proc };

beforeAll(async () => {
  pki = await makePki('grpc');
  [server, clientA, clientB] = await Promise.all([
    pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }),
    pki.issue('client-a', { cn: 'orders', san: 'URI:spiffe://shop/orders', client: true }),
    pki.issue('client-b', { cn: 'intruder', san: 'URI:spiffe://shop/intruder', client: true }),
  ]);
  app = await startGrpcEcho();
});
afterAll(async () => {
  await app?.proc.kill('SIGKILL');
});

const tlsArgs = () => ['--cert', server.cert, '--key', server.key];

/** Everything a server-streaming call delivers, then how it ended. */
function collect<T>(
  call: ClientReadableStream<T>,
): Promise<{ messages: T[]; error?: { code: number; details: string } }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    call.on('data', (m: T) => messages.push(m));
    call.on('error', (error: { code: number; details: string }) => resolve({ messages, error }));
    call.on('status', (s: { code: number }) => {
      if (s.code === status.OK) resolve({ messages });
    });
  });
}

describe('gRPC over TLS to an h2c app', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    sc = await startSidecar([...tlsArgs(), '--upstream', `h2c://127.0.0.1:${app.port}`]);
  });
  afterAll(async () => sc?.stop());

  it('unary: the answer, request metadata in, trailing metadata back', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const md = new Metadata();
    md.set('x-request-id', 'r-1');
    const r = await unary(client, { text: 'hello' }, { metadata: md });
    client.close();
    expect(r.error).toBeUndefined();
    expect(r.value!.text).toBe('hello');
    expect(r.value!.metadata['x-request-id']).toBe('r-1');
    expect(r.value!.metadata['x-forwarded-proto']).toBe('https');
    expect(r.status!.code).toBe(status.OK);
    expect(r.status!.metadata.get('x-echo-trailer')).toEqual(['done']);
  });

  it("an app's error status and message come through as they were", async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const r = await unary(client, {
      text: 'x',
      fail: { code: status.NOT_FOUND, details: 'no such order: 42' },
    });
    client.close();
    expect(r.error?.code).toBe(status.NOT_FOUND);
    expect(r.error?.details).toBe('no such order: 42');
  });

  it('server streaming: every message in order', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const got = await collect(
      client.ServerStream!({ count: 200, size: 4096 }) as ClientReadableStream<{ i: number }>,
    );
    client.close();
    expect(got.error).toBeUndefined();
    expect(got.messages.map((m) => m.i)).toEqual([...Array(200).keys()]);
  });

  it('bidi streaming: each message answered as it goes', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const call = client.Bidi!() as ClientDuplexStream<{ i: number }, { i: number; echo: boolean }>;
    const answers: number[] = [];
    // ping-pong: the next message goes only after the answer to the previous one arrived
    await new Promise<void>((resolve, reject) => {
      call.on('data', (m) => {
        answers.push(m.i);
        if (m.i < 99) call.write({ i: m.i + 1 });
        else call.end();
      });
      call.on('status', (s) => (s.code === status.OK ? resolve() : reject(new Error(s.details))));
      call.on('error', reject);
      call.write({ i: 0 });
    });
    client.close();
    expect(answers).toEqual([...Array(100).keys()]);
  });

  it('flow control: a client that stops reading stops the app, nothing piles up in between', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const call = client.ServerStream!({ count: 2000, size: 64 * 1024 }) as ClientReadableStream<{
      i: number;
    }>;
    let received = 0;
    const out0 = app.proc.stdout().length;
    const progress = () => {
      const m = [
        ...app.proc
          .stdout()
          .slice(out0)
          .matchAll(/progress (\d+)/g),
      ];
      return m.length ? Number(m[m.length - 1]![1]) : 0;
    };
    await new Promise<void>((resolve) => {
      call.on('data', () => {
        if (++received === 1) {
          call.pause();
          resolve();
        }
      });
    });
    const all = new Promise<void>((resolve) => call.on('end', () => resolve()));
    // wait until the app has stalled on back-pressure (its progress stops moving)
    let last = -1;
    for (let i = 0; i < 60 && progress() !== last; i++) {
      last = progress();
      await new Promise((r) => setTimeout(r, 250));
    }
    const stalledAt = progress();
    // 2000 x 64 KiB = 125 MiB would have been written without flow control; the windows of the
    // client, the sidecar and the socket buffers hold a few MiB at most
    expect(stalledAt).toBeLessThan(200);
    call.resume();
    await all;
    client.close();
    expect(received).toBe(2000);
  });

  it('a deadline that expires: the client gets DEADLINE_EXCEEDED and the app sees the call cancelled', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const t0 = Date.now();
    const r = await unary(client, { text: 'slow-1', sleepMs: 5000 }, { deadlineMs: 300 });
    client.close();
    expect(r.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).toBeLessThan(3000);
    await app.proc.waitFor('cancelled slow-1', 5000);
  });

  it('the proxy enforces grpc-timeout itself, even when the client does not cancel', async () => {
    // a raw HTTP/2 client that sends grpc-timeout but never resets the stream
    const { connect } = await import('node:http2');
    const session = connect(`https://localhost:${sc.port}`, { ca: pki.ca.pem, host: '127.0.0.1' } as never);
    const body = Buffer.from(JSON.stringify({ text: 'slow-2', sleepMs: 5000 }));
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const t0 = Date.now();
    const head = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const s = session.request({
        ':method': 'POST',
        ':path': '/dds.test.Echo/Unary',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '300m',
      });
      s.on('response', (h) => resolve(h));
      s.on('error', reject);
      s.end(frame);
    });
    session.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(head['grpc-status']).toBe(String(status.DEADLINE_EXCEEDED));
    await app.proc.waitFor('cancelled slow-2', 5000);
  });

  it('a client that cancels a stream: the app sees it cancelled', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const out0 = app.proc.stdout().length;
    const call = client.ServerStream!({
      count: 1000,
      size: 16,
      delayMs: 20,
    }) as ClientReadableStream<unknown>;
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.on('error', () => {});
    call.cancel();
    const end = Date.now() + 5000;
    while (!app.proc.stdout().slice(out0).includes('cancelled') && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
    client.close();
    expect(app.proc.stdout().slice(out0)).toContain('cancelled');
  });

  it('HTTP/1.1 and HTTP/2 clients that are not gRPC work against the h2c app too', async () => {
    // the gRPC app answers plain requests with a gRPC error: enough to see the hop works
    for (const proto of ['--http1.1', '--http2']) {
      const r = await run('curl', [
        '-sS',
        proto,
        '-o',
        '/dev/null',
        '-w',
        '%{http_code} %{http_version}',
        '--cacert',
        pki.ca.cert,
        '--resolve',
        `localhost:${sc.port}:127.0.0.1`,
        `https://localhost:${sc.port}/dds.test.Echo/Unary`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(proto === '--http1.1' ? /^(200|415) 1\.1$/ : /^(200|415) 2$/);
    }
  });
});

describe('gRPC with mTLS and an allow-list', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    sc = await startSidecar([
      ...tlsArgs(),
      '--upstream',
      `h2c://127.0.0.1:${app.port}`,
      '--client-auth',
      'require',
      '--client-ca',
      pki.ca.cert,
      '--allow-san',
      'spiffe://shop/orders',
    ]);
  });
  afterAll(async () => sc?.stop());

  it('an allowed client gets through, and the app sees its certificate', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert, clientA));
    const r = await unary(client, { text: 'hi' });
    client.close();
    expect(r.error).toBeUndefined();
    const der = new X509Certificate(clientA.pem).raw.toString('base64');
    expect(r.value!.metadata['client-cert']).toBe(`:${der}:`);
  });

  it('a verified client outside the allow-list gets PERMISSION_DENIED', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert, clientB));
    const r = await unary(client, { text: 'hi' });
    client.close();
    expect(r.error?.code).toBe(status.PERMISSION_DENIED);
  });

  it('a client without a certificate does not get in', async () => {
    const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
    const r = await unary(client, { text: 'hi' }, { deadlineMs: 5000 });
    client.close();
    expect(r.error?.code).toBe(status.UNAVAILABLE);
  });
});

describe('gRPC failures of the upstream', () => {
  it('an unreachable app gives UNAVAILABLE', async () => {
    const sc = await startSidecar([...tlsArgs(), '--upstream', `h2c://127.0.0.1:${await freePort()}`]);
    try {
      const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
      const r = await unary(client, { text: 'anyone?' });
      client.close();
      expect(r.error?.code).toBe(status.UNAVAILABLE);
      expect(r.error?.details).toMatch(/upstream/);
      expect(metric(await metrics(sc.admin), 'dds_upstream_errors_total{kind="error"}')).toBe(1);
    } finally {
      await sc.stop();
    }
  });

  it('an app that dies mid-stream: the messages so far arrive, then UNAVAILABLE', async () => {
    const doomed = await startGrpcEcho();
    const sc = await startSidecar([...tlsArgs(), '--upstream', `h2c://127.0.0.1:${doomed.port}`]);
    try {
      const client = echoClient(sc.port, tlsCredentials(pki.ca.cert));
      const call = client.ServerStream!({ count: 10_000, size: 16, delayMs: 10 }) as ClientReadableStream<{
        i: number;
      }>;
      const result = collect(call);
      await doomed.proc.waitFor('progress 20', 10_000);
      await doomed.proc.kill('SIGKILL');
      const got = await result;
      client.close();
      // killed after writing its 20th: what was on the wire then may or may not have arrived
      expect(got.messages.length).toBeGreaterThanOrEqual(10);
      expect(got.messages.map((m) => m.i)).toEqual([...Array(got.messages.length).keys()]);
      expect(got.error?.code).toBe(status.UNAVAILABLE);
    } finally {
      await sc.stop();
    }
  });
});
