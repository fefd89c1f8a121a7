// Access logs of every HTTP proxy (tls-sidecar, experiment-splitter, rate-limiter, the
// shard-ambassador's HTTP pools): real processes writing real records, read back as JSON.
import { existsSync, readFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { join } from 'node:path';
import { freePort, type Proc, run, startComponent, tempDir, waitForHttp } from '@dds/test-support';
import { startDemo } from '@dds/test-support/tls-sidecar/harness';
import { type Issued, makePki, type Pki } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Rec = {
  timestamp: string;
  observed_timestamp: string;
  severity_text: string;
  body: string;
  trace_id?: string;
  span_id?: string;
  attributes: Record<string, unknown>;
  resource: Record<string, string>;
};

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE}-${SPAN}-01`;

const records = (file: string): Rec[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Rec)
    : [];

/** Records are written off the request path: wait until `n` are there. */
async function waitRecords(file: string, n: number): Promise<Rec[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    const r = records(file);
    if (r.length >= n || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

const procs: Proc[] = [];
let demo: Proc;
let demoPort: number;

beforeAll(async () => {
  demoPort = await freePort();
  demo = await startDemo(demoPort);
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await demo?.kill();
});

async function component(pkg: string, args: string[], ready: string): Promise<{ proc: Proc; admin: number }> {
  const admin = await freePort();
  const proc = startComponent(pkg, ['--admin', `127.0.0.1:${admin}`, ...args], {
    env: { POD_NAME: 'web-7d9f', POD_NAMESPACE: 'shop' },
  });
  procs.push(proc);
  await proc.waitFor(ready, 30_000);
  await waitForHttp(`http://127.0.0.1:${admin}/readyz`);
  return { proc, admin };
}

describe('tls-sidecar', () => {
  let pki: Pki;
  let server: Issued;
  let client: Issued;
  let port: number;
  let file: string;

  beforeAll(async () => {
    pki = await makePki('access');
    [server, client] = await Promise.all([
      pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }),
      pki.issue('client', { cn: 'orders', san: 'URI:spiffe://shop/orders', client: true }),
    ]);
    port = await freePort();
    file = join(tempDir('access'), 'access.log');
    await component(
      'tls-sidecar',
      [
        '--listen',
        `127.0.0.1:${port}`,
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
        '--access-log',
        `file:${file}`,
      ],
      '"msg":"serving HTTPS',
    );
  });

  it('HTTP/1.1 with a client certificate: method, path, status, bytes, TLS, identity, trace and resource', async () => {
    const r = await run('curl', [
      '-sS',
      '--http1.1',
      '--cacert',
      pki.ca.cert,
      '--cert',
      client.cert,
      '--key',
      client.key,
      '-A',
      'access-test/1.0',
      '-H',
      `traceparent: ${TRACEPARENT}`,
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      `https://localhost:${port}/bytes/1000?x=1`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [rec] = await waitRecords(file, 1);
    expect(rec).toMatchObject({
      severity_text: 'INFO',
      body: 'GET /bytes/1000?x=1 HTTP/1.1 200',
      trace_id: TRACE,
      span_id: SPAN,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/bytes/1000',
        'url.query': 'x=1',
        'network.protocol.version': '1.1',
        'http.response.status_code': 200,
        'http.response.body.size': 1000,
        'client.address': '127.0.0.1',
        'server.address': 'localhost',
        'user_agent.original': 'access-test/1.0',
        'tls.protocol.version': '1.3',
        'tls.client.subject': 'CN=orders,O=dds test',
        'dds.client.id': 'spiffe://shop/orders',
      },
      resource: {
        'k8s.pod.name': 'web-7d9f',
        'k8s.namespace.name': 'shop',
        'service.name': 'dds-tls-sidecar',
      },
    });
    expect(rec!.attributes['http.server.request.duration']).toBeGreaterThan(0);
    expect(Date.parse(rec!.timestamp)).toBeLessThanOrEqual(Date.parse(rec!.observed_timestamp));
  });

  it('HTTP/2 requests are recorded with protocol 2 and their TLS version', async () => {
    const session = h2connect(`https://localhost:${port}`, { ca: pki.ca.pem, host: '127.0.0.1' } as never);
    try {
      await new Promise<void>((resolve, reject) => {
        const s = session.request({ ':path': '/status/404', 'user-agent': 'h2-test' });
        s.on('data', () => {});
        s.on('end', () => resolve());
        s.on('error', reject);
      });
    } finally {
      session.close();
    }
    const recs = await waitRecords(file, 2);
    expect(recs[1]).toMatchObject({
      severity_text: 'WARN',
      attributes: {
        'network.protocol.version': '2',
        'http.response.status_code': 404,
        'tls.protocol.version': '1.3',
        'user_agent.original': 'h2-test',
      },
    });
  });
});

describe('experiment-splitter', () => {
  it('records carry the experiment and the variant', async () => {
    const port = await freePort();
    const file = join(tempDir('access'), 'access.log');
    await component(
      'experiment-splitter',
      [
        '--listen',
        `127.0.0.1:${port}`,
        '--control',
        `http://127.0.0.1:${demoPort}`,
        '--experiment',
        `http://127.0.0.1:${demoPort}`,
        '--percent',
        '50',
        '--experiment-name',
        'checkout',
        '--access-log',
        `file:${file}`,
      ],
      'started',
    );
    const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { traceparent: TRACEPARENT } });
    await res.arrayBuffer();
    const [rec] = await waitRecords(file, 1);
    expect(rec).toMatchObject({
      trace_id: TRACE,
      attributes: {
        'http.response.status_code': 200,
        'dds.experiment': 'checkout',
        'dds.variant': expect.stringMatching(/^(control|experiment)$/),
      },
      resource: { 'service.name': 'dds-experiment-splitter' },
    });
    expect(rec!.attributes['tls.protocol.version']).toBeUndefined();
  });
});

describe('rate-limiter', () => {
  it('records carry the limit decision, for proxied and refused requests alike', async () => {
    const port = await freePort();
    const file = join(tempDir('access'), 'access.log');
    await component(
      'rate-limiter',
      [
        '--listen',
        `127.0.0.1:${port}`,
        '--upstream',
        `http://127.0.0.1:${demoPort}`,
        '--rate',
        '1/m',
        '--burst',
        '0',
        '--access-log',
        `file:${file}`,
      ],
      'rate limiter listening',
    );
    for (let i = 0; i < 2; i++) await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
    const [allowed, limited] = await waitRecords(file, 2);
    expect(allowed!.attributes).toMatchObject({
      'http.response.status_code': 200,
      'dds.ratelimit.decision': 'allowed',
    });
    expect(limited).toMatchObject({
      severity_text: 'WARN',
      attributes: {
        'http.response.status_code': 429,
        'http.response.body.size': 'Too Many Requests\n'.length,
        'dds.ratelimit.decision': 'limited',
        'dds.ratelimit.limits': expect.stringContaining('/'),
      },
    });
  });
});

describe('shard-ambassador (HTTP pools)', () => {
  it('records carry the pool and the shard', async () => {
    const port = await freePort();
    const file = join(tempDir('access'), 'access.log');
    await component(
      'shard-ambassador',
      [
        '--http-servers',
        `127.0.0.1:${demoPort}:1 web1`,
        '--http-listen',
        `127.0.0.1:${port}`,
        '--stats-port',
        '0',
        '--access-log',
        `file:${file}`,
      ],
      'pool listening',
    );
    await (await fetch(`http://127.0.0.1:${port}/echo?k=42`)).arrayBuffer();
    const [rec] = await waitRecords(file, 1);
    expect(rec!.attributes).toMatchObject({
      'url.path': '/echo',
      'http.response.status_code': 200,
      'dds.shard': 'web1',
    });
    expect(rec!.attributes['dds.pool']).toEqual(expect.any(String));
  });
});

describe('--access-log stdout', () => {
  it('every stdout line stays one whole JSON object, access records and process logs alike; sampling keeps errors', async () => {
    const port = await freePort();
    const { proc } = await component(
      'rate-limiter',
      [
        '--listen',
        `127.0.0.1:${port}`,
        '--upstream',
        `http://127.0.0.1:${demoPort}`,
        '--rate',
        '100000/s',
        '--access-log',
        'stdout',
        '--access-log-sample',
        '0',
        '--log-level',
        'debug',
      ],
      'rate limiter listening',
    );
    const work = [];
    for (let i = 0; i < 200; i++)
      work.push(
        fetch(`http://127.0.0.1:${port}/status/${i % 10 === 0 ? 503 : 200}`).then((r) => r.arrayBuffer()),
      );
    await Promise.all(work);
    const end = Date.now() + 10_000;
    let access: Rec[] = [];
    while (Date.now() < end) {
      const lines = proc.stdout().split('\n').filter(Boolean);
      const parsed = lines.map((l) => JSON.parse(l) as Rec & { msg?: string });
      access = parsed.filter((p) => p.attributes !== undefined);
      if (access.length >= 20) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // sample 0: only the 5xx answers are kept
    expect(access).toHaveLength(20);
    for (const r of access) expect(r.attributes['http.response.status_code']).toBe(503);
  });

  it('an access log that cannot be opened is a config error (exit 2) naming it', async () => {
    const r = await run(process.execPath, [
      'packages/experiment-splitter/dist/main.js',
      '--control',
      `http://127.0.0.1:${demoPort}`,
      '--experiment',
      `http://127.0.0.1:${demoPort}`,
      '--admin',
      'off',
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--access-log',
      'file:/nonexistent-dir/a.log',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('access-log: cannot open file:/nonexistent-dir/a.log: ENOENT');
  });

  it('a bad --access-log value is refused naming the field', async () => {
    const r = await run(process.execPath, [
      'packages/rate-limiter/dist/main.js',
      '--rate',
      '1/s',
      '--access-log',
      'syslog',
      '--check-config',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/accessLog: expected off, stdout or file:PATH/);
  });
});
