import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, type Proc, run, start, startComponent, waitForPort } from '@dds/test-support';
import {
  get,
  metric,
  metrics,
  rawTls,
  type Sidecar,
  startDemo,
  startSidecar,
} from '@dds/test-support/tls-sidecar/harness';
import { makePki, type Pki } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

let pki: Pki;
let ca: string;
let server: { cert: string; key: string };
let demo: Proc;
let demoPort: number;
let sc: Sidecar;
let redirectPort: number;

beforeAll(async () => {
  pki = await makePki('sidecar');
  ca = pki.ca.pem;
  server = await pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  demoPort = await freePort();
  demo = await startDemo(demoPort);
  redirectPort = await freePort();
  sc = await startSidecar([
    '--cert',
    server.cert,
    '--key',
    server.key,
    '--upstream',
    `http://127.0.0.1:${demoPort}`,
    '--hsts',
    'max-age=31536000; includeSubDomains',
    '--redirect-listen',
    `127.0.0.1:${redirectPort}`,
  ]);
});

afterAll(async () => {
  await sc?.stop();
  await demo?.kill();
});

const curl = (args: string[]) =>
  run('curl', ['-sS', '--cacert', pki.ca.cert, '--resolve', `localhost:${sc.port}:127.0.0.1`, ...args]);
const url = (path: string) => `https://localhost:${sc.port}${path}`;

describe('clients', () => {
  it('curl over HTTP/1.1 reaches the app with forwarding headers, HSTS, and forged identity headers stripped', async () => {
    const r = await curl([
      '--http1.1',
      '-D',
      '-',
      '-H',
      'Client-Cert: :Zm9yZ2Vk:',
      '-H',
      'X-Forwarded-Client-Cert: Hash=forged',
      '-H',
      'X-Forwarded-For: 6.6.6.6',
      url('/echo?x=1'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(r.stdout.toLowerCase()).toContain(
      'strict-transport-security: max-age=31536000; includesubdomains',
    );
    const echo = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    expect(echo.url).toBe('/echo?x=1');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1'); // the client's own value is not trusted
    expect(echo.headers['x-forwarded-proto']).toBe('https');
    expect(echo.headers['x-forwarded-host']).toBe(`localhost:${sc.port}`);
    expect(echo.headers['client-cert']).toBeUndefined();
    expect(echo.headers['x-forwarded-client-cert']).toBeUndefined();
  });

  it('curl negotiates HTTP/2 by ALPN on the same port', async () => {
    const r = await curl(['--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', url('/')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('2 200');
  });

  it('Node http2 client: many concurrent streams on one session, request body streamed', async () => {
    const session = h2connect(`https://localhost:${sc.port}`, { ca, host: '127.0.0.1' } as never);
    try {
      const one = (i: number) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const s = session.request({
            ':method': 'POST',
            ':path': `/echo?i=${i}`,
            'content-type': 'text/plain',
          });
          let body = '';
          let status = 0;
          s.on('response', (h) => (status = Number(h[':status'])));
          s.on('data', (d: Buffer) => (body += d));
          s.on('end', () => resolve({ status, body }));
          s.on('error', reject);
          s.end(Buffer.alloc(1000 * (i + 1), 0x62));
        });
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => one(i)));
      replies.forEach((r, i) => {
        expect(r.status).toBe(200);
        const echo = JSON.parse(r.body);
        expect(echo.url).toBe(`/echo?i=${i}`);
        expect(echo.bodyBytes).toBe(1000 * (i + 1));
        expect(echo.headers.host).toBe(`localhost:${sc.port}`);
      });
    } finally {
      session.close();
    }
  });

  it('Node https: large bodies stream both ways (16 MiB down, 8 MiB up)', async () => {
    const down = await get(sc.port, `/bytes/${16 << 20}`, { ca });
    expect(down.status).toBe(200);
    expect(down.body.length).toBe(16 << 20);
    expect(down.body.every((b) => b === 0x61)).toBe(true);
    const up = await get(sc.port, '/sink', { ca, body: Buffer.alloc(8 << 20, 7) });
    expect(JSON.parse(up.body.toString()).bodyBytes).toBe(8 << 20);
  });

  it('curl HTTP/2 download of a large body is complete', async () => {
    const r = await curl([
      '--http2',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download} %{http_version}',
      url(`/bytes/${5 << 20}`),
    ]);
    expect(r.stdout).toBe(`${5 << 20} 2`);
  });

  it('WebSocket (wss) passes through to the app /ws', async () => {
    const ws = new WebSocket(`wss://localhost:${sc.port}/ws`, {
      ca,
      headers: { 'client-cert': ':Zm9yZ2Vk:' },
    });
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    const echoed = await new Promise<string>((res) => {
      ws.once('message', (d) => res(d.toString()));
      ws.send('ping over tls');
    });
    expect(echoed).toBe('ping over tls');
    const big = Buffer.alloc(1 << 20, 3);
    const back = await new Promise<Buffer>((res) => {
      ws.once('message', (d) => res(d as Buffer));
      ws.send(big);
    });
    expect(back.equals(big)).toBe(true);
    ws.close();
  });

  it('the redirect listener answers 308 to https and nothing else', async () => {
    const r = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{redirect_url}',
      '-H',
      'Host: app.example:8081',
      `http://127.0.0.1:${redirectPort}/a/b?c=d`,
    ]);
    expect(r.stdout).toBe(`308 https://app.example:${sc.port}/a/b?c=d`);
    const bad = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Host: a b',
      `http://127.0.0.1:${redirectPort}/`,
    ]);
    expect(bad.stdout).toBe('400');
  });
});

describe('unix socket upstream', () => {
  let app: Proc;
  let side: Sidecar;
  beforeAll(async () => {
    const sock = join(pki.dir, 'app.sock');
    app = startComponent('demo-app', ['--listen', `unix:${sock}`, '--admin', 'off', '--name', 'on-a-socket']);
    await app.waitFor('started');
    side = await startSidecar(['--cert', server.cert, '--key', server.key, '--upstream', `unix:${sock}`]);
  });
  afterAll(async () => {
    await side?.stop();
    await app?.kill();
  });

  it('proxies HTTP and WebSocket to an app listening on a unix socket', async () => {
    const r = await get(side.port, '/echo', { ca });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).name).toBe('on-a-socket');
    const ws = new WebSocket(`wss://localhost:${side.port}/ws`, { ca });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('via unix'));
      ws.once('message', (d) => resolve(d.toString()));
      ws.once('error', reject);
    });
    ws.close();
    expect(echoed).toBe('via unix');
  });
});

describe('TLS policy (openssl s_client)', () => {
  const sClient = (args: string[]) =>
    run('openssl', ['s_client', '-connect', `127.0.0.1:${sc.port}`, '-servername', 'localhost', ...args], {
      timeoutMs: 10_000,
    });

  it('TLS 1.0 and 1.1 are refused by the server (the client is allowed to try them)', async () => {
    const before = metric(
      await metrics(sc.admin),
      'dds_tls_handshake_failures_total{reason="protocol_version"}',
    );
    for (const v of ['-tls1', '-tls1_1']) {
      const r = await sClient([v, '-cipher', 'DEFAULT@SECLEVEL=0']);
      expect(r.stdout).not.toMatch(/Cipher is (?!\(NONE\))/);
      expect(r.code).not.toBe(0);
    }
    const after = metric(
      await metrics(sc.admin),
      'dds_tls_handshake_failures_total{reason="protocol_version"}',
    );
    expect(after - before).toBe(2);
  });

  it('the same s_client invocation does speak TLS 1.0 to a server that allows it (control)', async () => {
    const port = await freePort();
    const s = start('openssl', [
      's_server',
      '-accept',
      `127.0.0.1:${port}`,
      '-cert',
      server.cert,
      '-key',
      server.key,
      '-cipher',
      'DEFAULT@SECLEVEL=0',
      '-tls1',
      '-www',
    ]);
    try {
      await waitForPort(port);
      const r = await run(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'],
        { timeoutMs: 10_000 },
      );
      expect(r.stdout).toMatch(/Protocol\s*:\s*TLSv1\b/);
    } finally {
      await s.kill('SIGKILL');
    }
  });

  it('non-AEAD (CBC) TLS 1.2 suites are refused; the AEAD ones are accepted', async () => {
    for (const cipher of [
      'ECDHE-ECDSA-AES128-SHA',
      'ECDHE-ECDSA-AES256-SHA384',
      'ECDHE-ECDSA-AES128-SHA256',
    ]) {
      const r = await sClient(['-tls1_2', '-cipher', `${cipher}@SECLEVEL=0`]);
      expect(r.stdout, cipher).not.toMatch(/Cipher is (?!\(NONE\))/);
    }
    const ok = await sClient(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
    expect(ok.stdout).toMatch(/Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
    const m = await metrics(sc.admin);
    expect(metric(m, 'dds_tls_handshake_failures_total{reason="no_shared_cipher"}')).toBeGreaterThanOrEqual(
      3,
    );
    const t13 = await sClient(['-tls1_3']);
    expect(t13.stdout).toMatch(/TLSv1\.3/);
  });

  it('server preference picks the cipher when the client offers a weaker-ranked one first', async () => {
    const r = await sClient([
      '-tls1_2',
      '-cipher',
      'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256',
    ]);
    expect(r.stdout).toMatch(/Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
  });

  it('counts handshakes by version and session resumption', async () => {
    const dir = pki.dir;
    const sess = join(dir, 'sess.pem');
    await sClient(['-tls1_2', '-sess_out', sess]);
    const r = await sClient(['-tls1_2', '-sess_in', sess]);
    expect(r.stdout).toMatch(/^Reused, TLSv1\.2/m);
    const m = await metrics(sc.admin);
    expect(metric(m, 'dds_tls_handshakes_total{version="TLSv1.2",outcome="resumed"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect(metric(m, 'dds_tls_handshakes_total{version="TLSv1.3",outcome="new"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('bad input', () => {
  it('non-TLS bytes on the TLS port are dropped and counted; the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s: Socket = netConnect(sc.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.on('close', () => resolve(out));
      s.on('error', () => {});
    });
    expect(reply).not.toContain('hello from the legacy app');
    expect(
      metric(await metrics(sc.admin), 'dds_tls_handshake_failures_total{reason="not_tls"}'),
    ).toBeGreaterThanOrEqual(1);
    expect((await get(sc.port, '/', { ca })).status).toBe(200);
  });

  it('oversized headers over HTTP/2 get 431 too', async () => {
    const r = await curl([
      '--http2',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{http_version}',
      '-H',
      `X-Big: ${'a'.repeat(20_000)}`,
      url('/echo'),
    ]);
    expect(r.stdout).toBe('431 2');
  });

  it('oversized headers get 431', async () => {
    const r = await rawTls(
      sc.port,
      `GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      ca,
    );
    expect(r).toMatch(/^HTTP\/1\.1 431/);
  });
});

describe('request smuggling over HTTP/1.1 never reaches the upstream', () => {
  let trap: Server;
  let bytesAtUpstream = 0;
  let side: Sidecar;
  beforeAll(async () => {
    const port = await freePort();
    trap = createServer((s) => s.on('data', (d: Buffer) => (bytesAtUpstream += d.length)));
    await new Promise<void>((r) => trap.listen(port, '127.0.0.1', r));
    side = await startSidecar([
      '--cert',
      server.cert,
      '--key',
      server.key,
      '--upstream',
      `http://127.0.0.1:${port}`,
    ]);
  });
  afterAll(async () => {
    await side?.stop();
    trap?.close();
  });

  const cases: Record<string, string> = {
    'Content-Length with Transfer-Encoding':
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'two different Content-Lengths':
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'obs-fold header continuation': 'GET /echo HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n',
    'invalid chunk size':
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    'Transfer-Encoding not ending in chunked':
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    'space before the colon':
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc',
    'bare LF line ends in chunked body':
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n',
  };
  for (const [name, bytes] of Object.entries(cases)) {
    it(`${name} -> 400`, async () => {
      const r = await rawTls(side.port, bytes, ca);
      expect(r).toMatch(/^HTTP\/1\.1 400/);
      expect(bytesAtUpstream).toBe(0);
    });
  }

  it('counted as bad_request', async () => {
    const m = await metrics(side.admin);
    expect(metric(m, 'dds_http_client_errors_total{kind="bad_request"}')).toBe(Object.keys(cases).length);
  });
});

describe('timeouts and upstream failures', () => {
  let side: Sidecar;
  let deadSide: Sidecar;
  beforeAll(async () => {
    const dead = await freePort();
    [side, deadSide] = await Promise.all([
      startSidecar([
        '--cert',
        server.cert,
        '--key',
        server.key,
        '--upstream',
        `http://127.0.0.1:${demoPort}`,
        '--header-timeout',
        '800ms',
        '--upstream-timeout',
        '500ms',
      ]),
      startSidecar([
        '--cert',
        server.cert,
        '--key',
        server.key,
        '--upstream',
        `http://127.0.0.1:${dead}`,
        '--ready-upstream',
        '--upstream-check-interval',
        '200ms',
      ]),
    ]);
  });
  afterAll(async () => {
    await side?.stop();
    await deadSide?.stop();
  });

  it('slowloris: a request head that never completes gets 408 and the connection closes', async () => {
    const t0 = Date.now();
    const r = await rawTls(side.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ', ca, 5000);
    expect(r).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('a slow upstream gets 504 within the upstream timeout', async () => {
    const r = await get(side.port, '/slow?ms=3000', { ca });
    expect(r.status).toBe(504);
    expect(r.body.toString()).toBe('upstream timed out\n');
  });

  it('an unreachable upstream gets a quick 502, is counted, and readiness fails', async () => {
    const r = await get(deadSide.port, '/', { ca });
    expect(r.status).toBe(502);
    expect(r.body.toString()).toBe('upstream unavailable\n');
    const m = await metrics(deadSide.admin);
    expect(metric(m, 'dds_upstream_errors_total{kind="error"}')).toBe(1);
    expect(metric(m, 'dds_http_requests_total{protocol="http/1.1",code="5xx"}')).toBe(1);
    const ready = await fetch(`http://127.0.0.1:${deadSide.admin}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('unreachable');
  });

  it('HTTP/2: 502 and 504 arrive as answers on the stream; a client reset mid-body harms nobody', async () => {
    const h2get = (port: number, path: string, resetAfterFirstChunk = false) =>
      new Promise<{ status: number; body: string; reset: boolean }>((resolve, reject) => {
        const session = h2connect(`https://localhost:${port}`, { ca, host: '127.0.0.1' } as never);
        session.on('error', () => {});
        const s = session.request({ ':path': path });
        let status = 0;
        let body = '';
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', (d: Buffer) => {
          body += d.toString('latin1');
          if (resetAfterFirstChunk) {
            s.close(8); // RST_STREAM CANCEL
            session.close();
            resolve({ status, body, reset: true });
          }
        });
        s.on('end', () => {
          session.close();
          resolve({ status, body, reset: false });
        });
        s.on('error', reject);
      });
    expect(await h2get(deadSide.port, '/')).toEqual({
      status: 502,
      body: 'upstream unavailable\n',
      reset: false,
    });
    expect(await h2get(side.port, '/slow?ms=3000')).toEqual({
      status: 504,
      body: 'upstream timed out\n',
      reset: false,
    });
    const cut = await h2get(side.port, `/bytes/${64 << 20}`, true);
    expect(cut.status).toBe(200);
    expect(cut.reset).toBe(true);
    // the sidecar is unharmed and the next stream is answered in full
    const after = await h2get(side.port, `/bytes/${1 << 20}`);
    expect(after.status).toBe(200);
    expect(after.body.length).toBe(1 << 20);
  });
});

describe('start-up errors exit 2 naming the file', () => {
  const runSidecar = async (args: string[]) => {
    const p = startComponent('tls-sidecar', ['--listen', '127.0.0.1:0', '--admin', 'off', ...args]);
    const code = await p.exited;
    return { code, err: p.stderr() };
  };

  it('missing certificate file', async () => {
    const missing = join(pki.dir, 'nope.crt');
    const r = await runSidecar(['--cert', missing, '--key', server.key]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(missing);
  });

  it('key that does not match the certificate', async () => {
    const other = await pki.issue('other', { cn: 'other' });
    const r = await runSidecar(['--cert', server.cert, '--key', other.key]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('does not match');
    expect(r.err).toContain(other.key);
  });

  it('a file that is not PEM', async () => {
    const r = await runSidecar(['--cert', server.cert, '--key', join(pki.dir, 'server.ext')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('server.ext');
  });

  it('no certificate at all', async () => {
    const r = await runSidecar([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('cert');
  });
});

describe('metrics', () => {
  it('exposes expiry, connections, requests by class and latency', async () => {
    const m = await metrics(sc.admin);
    const notAfter = new Date(readCertNotAfter(server.cert)).getTime() / 1000;
    expect(
      metric(m, `dds_tls_certificate_expiry_timestamp_seconds{cert="${server.cert}",subject="localhost"}`),
    ).toBe(notAfter);
    expect(m).toMatch(/^dds_active_connections \d+/m);
    expect(metric(m, 'dds_http_requests_total{protocol="h2",code="2xx"}')).toBeGreaterThan(0);
    expect(metric(m, 'dds_http_request_duration_seconds_count')).toBeGreaterThan(0);
    const r = await run('promtool', ['check', 'metrics'], { input: m });
    // strict: a lint finding (exit 3) fails as a parse error does
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

function readCertNotAfter(file: string): string {
  return new X509Certificate(readFileSync(file)).validTo;
}
