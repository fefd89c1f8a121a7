import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  freePort,
  ROOT,
  run,
  type Service,
  start,
  startHaproxy,
  startNginx,
  startRedis,
} from '@dds/test-support';
import { metric, metrics, type Sidecar, startSidecar } from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, type Pki, secretDir } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let pki: Pki;
let server: Issued;
let clientA: Issued;
let clientB: Issued;

beforeAll(async () => {
  pki = await makePki('tcp');
  [server, clientA, clientB] = await Promise.all([
    pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }),
    pki.issue('client-a', { cn: 'app-a', san: 'URI:spiffe://dds.test/ns/shop/sa/app-a', client: true }),
    pki.issue('client-b', { cn: 'app-b', san: 'URI:spiffe://dds.test/ns/shop/sa/app-b', client: true }),
  ]);
});

const tlsArgs = () => ['--cert', server.cert, '--key', server.key];
const mtlsArgs = () => [
  ...tlsArgs(),
  '--client-auth',
  'require',
  '--client-ca',
  pki.ca.cert,
  '--allow-san',
  'spiffe://dds.test/ns/shop/sa/app-a',
];

/** A TLS client connection to the sidecar (client certificate optional). */
function dial(port: number, client?: Issued, servername = 'localhost'): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect(
      {
        host: '127.0.0.1',
        port,
        servername,
        ca: pki.ca.pem,
        // the SNI may name something else than the certificate (PROXY authority tests)
        checkServerIdentity: () => undefined,
        ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
        allowHalfOpen: true,
      } as never,
      () => resolve(s),
    );
    s.once('error', reject);
  });
}

/** Everything a socket sends until its end (or close). */
function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('close', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('TCP mode with redis-server behind, mTLS', () => {
  let redis: Service;
  let sc: Sidecar;
  beforeAll(async () => {
    redis = await startRedis();
    sc = await startSidecar([...mtlsArgs(), '--upstream', `tcp://127.0.0.1:${redis.port}`]);
  });
  afterAll(async () => {
    await sc?.stop();
    await redis?.stop();
  });

  const tlsCli = (client: Issued) => [
    '--tls',
    '--cacert',
    pki.ca.cert,
    '--cert',
    client.cert,
    '--key',
    client.key,
    '-h',
    '127.0.0.1',
    '-p',
    String(sc.port),
  ];

  it('redis-cli --tls talks to Redis through the sidecar', async () => {
    const set = await run('redis-cli', [...tlsCli(clientA), 'SET', 'k', 'through-the-sidecar']);
    expect(set.stdout.trim(), set.stderr).toBe('OK');
    const get = await run('redis-cli', [...tlsCli(clientA), 'GET', 'k']);
    expect(get.stdout.trim()).toBe('through-the-sidecar');
  });

  it('a redis-benchmark run goes through whole: every command reaches Redis, bytes are counted both ways', async () => {
    const info = async () => {
      const r = await run('redis-cli', ['-p', String(redis.port), 'INFO', 'stats']);
      return Number(/total_commands_processed:(\d+)/.exec(r.stdout)?.[1]);
    };
    const before = await info();
    const m0 = await metrics(sc.admin);
    const r = await run(
      'redis-benchmark',
      [...tlsCli(clientA), '-n', '20000', '-c', '20', '-P', '4', '-t', 'set,get', '-d', '64', '--csv'],
      { timeoutMs: 240_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^"(SET|GET)"/.test(l));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(Number(row.split(',')[1]!.replace(/"/g, ''))).toBeGreaterThan(0);
    // 40,000 commands, plus the CONFIG GET the benchmark sends per client at start
    expect((await info()) - before).toBeGreaterThanOrEqual(40_000);
    const m1 = await metrics(sc.admin);
    const up =
      metric(m1, 'dds_tcp_bytes_total{direction="to_upstream"}') -
      metric(m0, 'dds_tcp_bytes_total{direction="to_upstream"}');
    const down =
      metric(m1, 'dds_tcp_bytes_total{direction="to_client"}') -
      metric(m0, 'dds_tcp_bytes_total{direction="to_client"}');
    // each SET carries a 64-byte value; each GET answer carries it back
    expect(up).toBeGreaterThan(20_000 * 64);
    expect(down).toBeGreaterThan(20_000 * 64);
    expect(metric(m1, 'dds_tcp_connections_total{outcome="closed"}')).toBeGreaterThanOrEqual(20);
    expect(m1).toMatch(/dds_tcp_connection_duration_seconds_count \d+/);
  });

  it('a client outside the allow-list, and one without a certificate, never reach Redis', async () => {
    const denied = await run('redis-cli', [...tlsCli(clientB), 'SET', 'k', 'intruder']);
    expect(denied.stdout).not.toContain('OK');
    const noCert = await run('redis-cli', [
      '--tls',
      '--cacert',
      pki.ca.cert,
      '-h',
      '127.0.0.1',
      '-p',
      String(sc.port),
      'SET',
      'k',
      'anonymous',
    ]);
    expect(noCert.stdout).not.toContain('OK');
    const get = await run('redis-cli', ['-p', String(redis.port), 'GET', 'k']);
    expect(get.stdout.trim()).toBe('through-the-sidecar');
    const m = await metrics(sc.admin);
    expect(metric(m, 'dds_tls_client_denied_total{reason="not_allowed"}')).toBeGreaterThanOrEqual(1);
    expect(
      metric(m, 'dds_tls_handshake_failures_total{reason="client_cert_missing"}'),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('TCP mode: half-close, failures, idle timeout', () => {
  let app: Server;
  let appPort: number;
  let sc: Sidecar;
  /** what the app received on each connection, by its first line */
  const received = new Map<string, Buffer>();

  beforeAll(async () => {
    appPort = await freePort();
    // The app: "echo" mode answers once the client has finished sending (so only a passed-on
    // half-close lets it answer); "first" mode sends and finishes first, then reads.
    app = createServer({ allowHalfOpen: true }, (s) => {
      const chunks: Buffer[] = [];
      let mode = '';
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        if (!mode) {
          mode = Buffer.concat(chunks).toString('latin1').split('\n')[0] ?? '';
          if (mode === 'first') s.end('greeting from the app\n');
        }
      });
      s.on('end', () => {
        const all = Buffer.concat(chunks);
        received.set(mode, all);
        if (mode === 'echo')
          s.end(`got ${all.length} bytes sha256=${createHash('sha256').update(all).digest('hex')}\n`);
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => app.listen(appPort, '127.0.0.1', r));
    sc = await startSidecar([
      ...tlsArgs(),
      '--upstream',
      `tcp://127.0.0.1:${appPort}`,
      '--tcp-idle-timeout',
      '1s',
    ]);
  });
  afterAll(async () => {
    await sc?.stop();
    app?.close();
  });

  it('the client half-closing after a large request still gets the whole answer', async () => {
    const s = await dial(sc.port);
    const body = Buffer.concat([Buffer.from('echo\n'), randomBytes(3 * 1024 * 1024)]);
    const reply = readAll(s);
    s.end(body);
    expect((await reply).toString()).toBe(
      `got ${body.length} bytes sha256=${createHash('sha256').update(body).digest('hex')}\n`,
    );
  });

  it('the app half-closing first still receives what the client sends after', async () => {
    const s = await dial(sc.port);
    s.write('first\n');
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => chunks.push(d));
      s.once('end', () => resolve());
    });
    expect(Buffer.concat(chunks).toString()).toBe('greeting from the app\n');
    s.end('written after the app finished\n');
    await until(async () => received.has('first'), 'the app to see the end');
    expect(received.get('first')!.toString()).toBe('first\nwritten after the app finished\n');
  });

  it('an idle connection is closed after --tcp-idle-timeout and counted', async () => {
    const s = await dial(sc.port);
    s.write('idle\n');
    const t0 = Date.now();
    await readAll(s);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    await until(
      async () => metric(await metrics(sc.admin), 'dds_tcp_connections_total{outcome="idle"}') === 1,
      'the idle outcome',
    );
  });

  it('an upstream that refuses: the client is closed, the failure counted', async () => {
    const dead = await freePort();
    const down = await startSidecar([...tlsArgs(), '--upstream', `tcp://127.0.0.1:${dead}`]);
    try {
      const s = await dial(down.port);
      s.write('anyone there?\n');
      expect((await readAll(s)).length).toBe(0);
      const m = await metrics(down.admin);
      expect(metric(m, 'dds_upstream_errors_total{kind="error"}')).toBe(1);
      expect(metric(m, 'dds_tcp_connections_total{outcome="upstream_error"}')).toBe(1);
      expect(down.proc.stdout()).toContain('upstream connection failed');
    } finally {
      await down.stop();
    }
  });

  it('SIGTERM drains: a connection in progress finishes, new ones are refused, then the process exits', async () => {
    const own = await startSidecar([...tlsArgs(), '--upstream', `tcp://127.0.0.1:${appPort}`]);
    const s = await dial(own.port);
    const reply = readAll(s);
    s.write('echo\npart one,');
    own.proc.child.kill('SIGTERM');
    await own.proc.waitFor('draining');
    await until(
      async () =>
        await dial(own.port)
          .then((x) => {
            x.destroy();
            return false;
          })
          .catch(() => true),
      'refusal',
    );
    s.end('part two');
    const body = Buffer.from('echo\npart one,part two');
    expect((await reply).toString()).toContain(`got ${body.length} bytes`);
    expect(await own.proc.exited).toBe(0);
  });
});

describe('TCP mode: PROXY protocol read by real consumers', () => {
  let sc: Sidecar;

  it('HAProxy (accept-proxy) sees the client address and port, and the SNI as authority; the CRC32C checks', async () => {
    const haproxy = await startHaproxy(`
frontend fe
  mode http
  bind 127.0.0.1:PORT accept-proxy
  http-request return status 200 content-type text/plain lf-string "src=%[src]:%[src_port] authority=%[fc_pp_authority] pp=%[fc_rcvd_proxy]\\n"
`);
    sc = await startSidecar([
      ...mtlsArgs(),
      '--upstream',
      `tcp://127.0.0.1:${haproxy.port}`,
      '--proxy-protocol',
      'v2',
    ]);
    try {
      const s = await dial(sc.port, clientA, 'app.shop.example');
      const port = s.localPort;
      const reply = readAll(s);
      s.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const text = (await reply).toString();
      expect(text).toMatch(/^HTTP\/1\.1 200/);
      expect(text).toContain(`src=127.0.0.1:${port} authority=app.shop.example pp=1`);
    } finally {
      await sc.stop();
      await haproxy.stop();
    }
  });

  it('go-proxyproto (the Go library Traefik uses) reads the TLS TLVs: version, cipher, SNI, verified CN and SPIFFE ID', async () => {
    const bin = join(ROOT, '.cache/go-bin/pp2-consumer');
    if (!existsSync(bin)) {
      const b = await run('go', ['build', '-o', bin, '.'], {
        cwd: join(ROOT, 'packages/test-support/peers/pp2-consumer'),
        timeoutMs: 300_000,
      });
      expect(b.code, b.stderr).toBe(0);
    }
    const port = await freePort();
    const consumer = start(bin, [`127.0.0.1:${port}`]);
    await consumer.waitFor('listening');
    sc = await startSidecar([
      ...tlsArgs(),
      '--client-auth',
      'optional',
      '--client-ca',
      pki.ca.cert,
      '--upstream',
      `tcp://127.0.0.1:${port}`,
      '--proxy-protocol',
      'v2',
    ]);
    const ask = async (client?: Issued) => {
      const s = await dial(sc.port, client, 'db.shop.example');
      const from = `127.0.0.1:${s.localPort}`;
      const cipher = s.getCipher().standardName;
      const reply = readAll(s);
      s.end('hello after the header\n');
      return { from, cipher, seen: JSON.parse((await reply).toString()) };
    };
    try {
      const withCert = await ask(clientA);
      expect(withCert.seen).toMatchObject({
        version: 2,
        source: withCert.from,
        destination: `127.0.0.1:${sc.port}`,
        authority: 'db.shop.example',
        ssl: true,
        certConn: true,
        verified: true,
        tlsVersion: 'TLSv1.3',
        cipher: withCert.cipher,
        cn: 'app-a',
        clientUri: 'spiffe://dds.test/ns/shop/sa/app-a',
        payload: 'hello after the header\n',
      });
      expect(withCert.seen.error).toBeUndefined();
      const anonymous = await ask();
      expect(anonymous.seen).toMatchObject({
        ssl: true,
        certConn: false,
        verified: false,
        source: anonymous.from,
      });
      expect(anonymous.seen.cn).toBeUndefined();
      expect(anonymous.seen.clientUri).toBeUndefined();
    } finally {
      await sc.stop();
      await consumer.kill();
    }
  });

  it('nginx (listen ... proxy_protocol) sees the client address, v2 and v1', async () => {
    const nginx = await startNginx(
      `server { listen 127.0.0.1:PORT proxy_protocol; location / { return 200 "client=$proxy_protocol_addr:$proxy_protocol_port server=$proxy_protocol_server_addr:$proxy_protocol_server_port\\n"; } }`,
    );
    try {
      for (const version of ['v2', 'v1']) {
        sc = await startSidecar([
          ...tlsArgs(),
          '--upstream',
          `tcp://127.0.0.1:${nginx.port}`,
          '--proxy-protocol',
          version,
        ]);
        try {
          const s = await dial(sc.port);
          const port = s.localPort;
          const reply = readAll(s);
          s.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          expect((await reply).toString()).toContain(`client=127.0.0.1:${port} server=127.0.0.1:${sc.port}`);
        } finally {
          await sc.stop();
        }
      }
    } finally {
      await nginx.stop();
    }
  });
});

describe('TCP mode: certificate rotation', () => {
  it('a ..data swap is used by new handshakes while an open connection keeps flowing', async () => {
    const a = await pki.issue('rot-a', { cn: 'localhost', san: 'DNS:localhost', days: 1 });
    const b = await pki.issue('rot-b', { cn: 'localhost', san: 'DNS:localhost', days: 2 });
    const secret = secretDir({ 'tls.crt': a.cert, 'tls.key': a.key });
    const redis = await startRedis();
    const sc = await startSidecar([
      '--tls-dir',
      secret.dir,
      '--upstream',
      `tcp://127.0.0.1:${redis.port}`,
      '--reload-interval',
      '200ms',
    ]);
    try {
      const fp = async () => {
        const s = await dial(sc.port);
        const f = s.getPeerX509Certificate()!.fingerprint256;
        s.destroy();
        return f;
      };
      const held = await dial(sc.port);
      const answers: string[] = [];
      held.on('data', (d: Buffer) => answers.push(d.toString()));
      held.write('PING\r\n');
      secret.swap({ 'tls.crt': b.cert, 'tls.key': b.key });
      const fpB = new X509Certificate(b.pem).fingerprint256;
      await until(async () => (await fp()) === fpB, 'the new certificate');
      held.write('PING\r\n');
      await until(
        async () => answers.join('') === '+PONG\r\n+PONG\r\n',
        'both answers on the old connection',
      );
      held.destroy();
      expect(metric(await metrics(sc.admin), 'dds_tls_certificate_reloads_total{result="ok"}')).toBe(1);
    } finally {
      await sc.stop();
      await redis.stop();
    }
  });
});

describe('TCP mode: configuration', () => {
  it.each([
    [['--upstream', 'tcp://127.0.0.1'], /upstream: tcp:\/\/ needs a port/],
    [['--upstream', 'tcp://127.0.0.1:6379', '--proxy-protocol', 'v3'], /proxyProtocol/],
    [
      ['--upstream', 'http://127.0.0.1:8080', '--proxy-protocol', 'v2'],
      /proxyProtocol: --proxy-protocol needs --upstream tcp:\/\//,
    ],
    [['--upstream', 'tls://127.0.0.1:6379'], /upstream: --mode server takes/],
    [['--upstream', 'tcp://127.0.0.1:6379', '--ca', '/x'], /ca: --ca is for --mode client/],
    [
      ['--upstream', 'tcp://127.0.0.1:6379', '--access-log', 'stdout'],
      /accessLog: access logs are written per HTTP request/,
    ],
  ])('%j is refused with exit 2 naming the field', async (args, message) => {
    const r = await run(process.execPath, [
      'packages/tls-sidecar/dist/main.js',
      ...tlsArgs(),
      ...(args as string[]),
      '--check-config',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('--help lists the mode, TCP and upstream TLS flags', async () => {
    const r = await run(process.execPath, ['packages/tls-sidecar/dist/main.js', '--help']);
    for (const flag of [
      '--mode',
      '--proxy-protocol',
      '--tcp-idle-timeout',
      '--upstream-ca',
      '--upstream-allow-san',
      '--ca',
      '--access-log',
    ])
      expect(r.stdout).toContain(flag);
  });
});
