import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { request } from 'node:https';
import { join } from 'node:path';
import { bin, freePorts, type Proc, start, startComponent, tempDir, waitForHttp } from '@dds/test-support';
import { type StrictUpstream, startStrictUpstream } from '@dds/test-support/recording-upstream';
import { type Issued, makePki, type Pki } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// One set of behaviour assertions for the chain TLS (mTLS) -> rate limit -> app, run against the
// two components as separate processes (loopback TCP between them) and against one dds-pod where
// the TLS sidecar hands each request to the rate limiter in-process (upstream: internal:rate-limiter,
// the rate limiter listening nowhere). The app is a strict recording upstream: what reaches it must
// be the same, header by header and byte by byte.

const dir = tempDir('pod-chain');
let pki: Pki;
let server: Issued;
let client: Issued;
let upstream: StrictUpstream;

beforeAll(async () => {
  pki = await makePki('pod-chain');
  [server, client] = await Promise.all([
    pki.issue('server', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }),
    pki.issue('client', { cn: 'client-a', san: 'URI:spiffe://dds/client-a', client: true }),
  ]);
  upstream = await startStrictUpstream();
});
afterAll(() => upstream?.close());

/** A running chain: its TLS front port, and a drain (SIGTERM) that resolves with every exit code. */
interface Chain {
  port: number;
  procs: Proc[];
}

// the rate limiter's own wait for the app: longer than the sidecar's, so the sidecar answers the
// 504; a standalone rate limiter does not notice its client closing while it waits on the app (the
// connection sits in CLOSE-WAIT until the app or this timeout answers), so this bounds its drain
const LIMIT = { rate: '1/m', burst: 2, key: 'header:x-user', trusted: '127.0.0.1/32', timeout: '5s' };
const TLS_FLAGS = (c: { cert: string; key: string; ca: string }) => ({
  cert: c.cert,
  key: c.key,
  'client-auth': 'require',
  'client-ca': c.ca,
  xfcc: true,
  // the sidecar's wait for a response head, over the hop to the rate limiter and on to the app
  'upstream-timeout': '3s',
});

async function separate(): Promise<Chain> {
  const [tlsPort, tlsAdmin, rlPort, rlAdmin] = (await freePorts(4)) as [number, number, number, number];
  const tls = TLS_FLAGS({ cert: server.cert, key: server.key, ca: pki.ca.cert });
  const procs = [
    startComponent('rate-limiter', [
      `--listen=127.0.0.1:${rlPort}`,
      `--admin=127.0.0.1:${rlAdmin}`,
      `--upstream=${upstream.url}`,
      `--rate=${LIMIT.rate}`,
      `--burst=${LIMIT.burst}`,
      `--key=${LIMIT.key}`,
      `--trusted-proxies=${LIMIT.trusted}`,
      `--upstream-timeout=${LIMIT.timeout}`,
    ]),
    startComponent('tls-sidecar', [
      `--listen=127.0.0.1:${tlsPort}`,
      `--admin=127.0.0.1:${tlsAdmin}`,
      `--upstream=http://127.0.0.1:${rlPort}`,
      ...Object.entries(tls).map(([k, v]) => (v === true ? `--${k}` : `--${k}=${v}`)),
    ]),
  ];
  await waitForHttp(`http://127.0.0.1:${rlAdmin}/readyz`);
  await waitForHttp(`http://127.0.0.1:${tlsAdmin}/readyz`);
  return { port: tlsPort, procs };
}

async function inPod(): Promise<Chain> {
  const [tlsPort, admin] = (await freePorts(2)) as [number, number];
  const file = join(dir, 'chain.yaml');
  const tls = TLS_FLAGS({ cert: server.cert, key: server.key, ca: pki.ca.cert });
  writeFileSync(
    file,
    `admin: 127.0.0.1:${admin}
components:
  tls-sidecar:
    listen: 127.0.0.1:${tlsPort}
    upstream: internal:rate-limiter
    cert: ${tls.cert}
    key: ${tls.key}
    clientAuth: require
    clientCa: ${tls['client-ca']}
    xfcc: true
    upstreamTimeout: ${tls['upstream-timeout']}
  rate-limiter:
    listen: "off"
    upstream: ${upstream.url}
    rate: ${LIMIT.rate}
    burst: ${LIMIT.burst}
    key: [${LIMIT.key}]
    trustedProxies: [${LIMIT.trusted}]
    upstreamTimeout: ${LIMIT.timeout}
`,
  );
  const pod = start(process.execPath, [bin('pod'), '--config', file]);
  await waitForHttp(`http://127.0.0.1:${admin}/readyz`);
  return { port: tlsPort, procs: [pod] };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request with the client certificate; `body` as chunks (more than one: sent chunked). */
function send(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string[]; hold?: Promise<void> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        servername: 'localhost',
        ca: readFileSync(pki.ca.cert),
        cert: readFileSync(client.cert),
        key: readFileSync(client.key),
        agent: false,
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    const chunks = opts.body ?? [];
    if (chunks.length === 0) return void req.end();
    req.write(chunks[0]);
    // the rest once `hold` settles (a body still coming while the chain drains)
    void (opts.hold ?? Promise.resolve()).then(() => {
      for (const c of chunks.slice(1)) req.write(c);
      req.end();
    });
  });
}

/** What the app saw of the request for `path`: its head as an object (names lower-cased), its body. */
function appSaw(path: string): { headers: Record<string, string>; body: string; httpVersion: string } {
  const s = upstream.seen.find((x) => x.url === path);
  if (s === undefined) throw new Error(`the app never saw ${path}`);
  const headers: Record<string, string> = {};
  for (let i = 0; i < s.rawHeaders.length; i += 2)
    headers[s.rawHeaders[i]!.toLowerCase()] = s.rawHeaders[i + 1]!;
  return { headers, body: s.body.toString(), httpVersion: s.httpVersion };
}

const SETUPS: [string, () => Promise<Chain>][] = [
  ['as separate processes', separate],
  ['in one dds-pod (internal:rate-limiter, the rate limiter listening nowhere)', inPod],
];

describe.each(SETUPS)('TLS -> rate limit -> app %s', (setup, startChain) => {
  let chain: Chain;
  // each setup's own request paths, so the recording of one never answers for the other
  const tag = setup.startsWith('as') ? 'sep' : 'pod';
  beforeAll(async () => {
    chain = await startChain();
  }, 30_000);
  afterAll(async () => {
    for (const p of chain?.procs ?? []) await p.kill('SIGKILL');
  });

  it('the proxies write X-Forwarded-*: a client forging them gets nothing through', async () => {
    const path = `/${tag}/forwarded`;
    const r = await send(chain.port, path, {
      headers: { 'x-user': `${tag}-fwd`, 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'gopher' },
    });
    expect(r.status).toBe(200);
    const h = appSaw(path).headers;
    // the sidecar sets the client (127.0.0.1) and drops the forged value; the rate limiter trusts
    // the sidecar's hop (127.0.0.1/32) and appends its own peer
    expect(h['x-forwarded-for']).toBe('127.0.0.1, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h.host).toBe(`127.0.0.1:${chain.port}`);
  });

  it("the client certificate's identity reaches the app (Client-Cert, XFCC); forged copies do not", async () => {
    const path = `/${tag}/identity`;
    const r = await send(chain.port, path, {
      headers: {
        'x-user': `${tag}-id`,
        'client-cert': ':Zm9yZ2Vk:',
        'x-forwarded-client-cert': 'Hash=forged',
      },
    });
    expect(r.status).toBe(200);
    const h = appSaw(path).headers;
    const cert = new X509Certificate(client.pem);
    expect(h['client-cert']).toBe(`:${cert.raw.toString('base64')}:`);
    const hash = cert.fingerprint256.replace(/:/g, '').toLowerCase();
    expect(h['x-forwarded-client-cert']).toMatch(
      new RegExp(`^Hash=${hash};Subject="CN=client-a[^"]*";URI=spiffe://dds/client-a$`),
    );
  });

  it('HTTP/2 clients (ALPN h2) go through as HTTP/1.1 with the same identity; HEAD answers carry no body', async () => {
    const path = `/${tag}/h2`;
    const session = h2connect(`https://127.0.0.1:${chain.port}`, {
      ca: readFileSync(pki.ca.cert),
      cert: readFileSync(client.cert),
      key: readFileSync(client.key),
      servername: 'localhost',
    });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const st = session.request({
          ':path': path,
          ':authority': `127.0.0.1:${chain.port}`,
          'x-user': `${tag}-h2`,
          'client-cert': ':Zm9yZ2Vk:',
        });
        let status = 0;
        let body = '';
        st.on('response', (h) => (status = Number(h[':status'])));
        st.on('data', (d: Buffer) => (body += d));
        st.on('end', () => resolve({ status, body }));
        st.on('error', reject);
      });
      expect(status).toBe(200);
      expect(body).toBe(`seen GET ${path} 0\n`);
    } finally {
      session.close();
    }
    const saw = appSaw(path);
    expect(saw.httpVersion).toBe('1.1');
    expect(saw.headers['client-cert']).toBe(`:${new X509Certificate(client.pem).raw.toString('base64')}:`);
    expect(saw.headers['x-forwarded-for']).toBe('127.0.0.1, 127.0.0.1');
    expect(saw.headers.host).toBe(`127.0.0.1:${chain.port}`);

    const head = await send(chain.port, `/${tag}/head`, {
      method: 'HEAD',
      headers: { 'x-user': `${tag}-h2` },
    });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(`seen HEAD /${tag}/head 0\n`.length));
  });

  it('body framing: a length body and a chunked body arrive whole, framed by the proxy', async () => {
    const fixed = `/${tag}/fixed`;
    const data = 'x'.repeat(70_000);
    const a = await send(chain.port, fixed, {
      method: 'POST',
      headers: { 'x-user': `${tag}-body`, 'content-length': String(data.length) },
      body: [data],
    });
    expect(a.status).toBe(200);
    expect(a.body).toBe(`seen POST ${fixed} 70000\n`);
    expect(appSaw(fixed).headers['content-length']).toBe('70000');
    expect(appSaw(fixed).headers['transfer-encoding']).toBeUndefined();
    expect(appSaw(fixed).body).toBe(data);

    const chunked = `/${tag}/chunked`;
    const b = await send(chain.port, chunked, {
      method: 'PUT',
      headers: { 'x-user': `${tag}-body` },
      body: ['first,', 'second,', 'third'],
    });
    expect(b.status).toBe(200);
    expect(appSaw(chunked).headers['transfer-encoding']).toBe('chunked');
    expect(appSaw(chunked).headers['content-length']).toBeUndefined();
    expect(appSaw(chunked).body).toBe('first,second,third');
    // the answer's own framing came through: its length, no chunking
    expect(b.headers['content-length']).toBe(String(b.body.length));
  });

  it('the limit is counted per key across the chain: the burst passes, then 429s that never reach the app', async () => {
    const statuses: number[] = [];
    let refused: Answer | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await send(chain.port, `/${tag}/limited/${i}`, { headers: { 'x-user': `${tag}-limit` } });
      statuses.push(r.status);
      if (r.status === 429) refused ??= r;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(refused?.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused?.headers['ratelimit-policy']).toBeDefined();
    expect(upstream.seen.filter((s) => s.url.startsWith(`/${tag}/limited/`)).map((s) => s.url)).toEqual([
      `/${tag}/limited/0`,
      `/${tag}/limited/1`,
      `/${tag}/limited/2`,
    ]);
    // another key is counted apart
    expect(
      (await send(chain.port, `/${tag}/limited/other`, { headers: { 'x-user': `${tag}-other` } })).status,
    ).toBe(200);
  });

  it("the sidecar's upstream-timeout bounds the hop: an app that never answers gets the client a 504", async () => {
    const path = `/hold/${tag}/timeout`;
    const r = await send(chain.port, path, { headers: { 'x-user': `${tag}-timeout` } });
    expect(r.status).toBe(504);
    expect(r.body).toBe('upstream timed out\n');
    expect(upstream.seen.some((s) => s.url === path)).toBe(true);
  });

  it('drain: SIGTERM while a request body is still coming; the request completes, then every process exits 0', async () => {
    const path = `/${tag}/draining`;
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const answer = send(chain.port, path, {
      method: 'POST',
      headers: { 'x-user': `${tag}-drain` },
      body: ['part one,', 'part two'],
      hold,
    });
    await upstream.waitFor(path); // the app has the head: the request is in flight through the chain
    for (const p of chain.procs) p.child.kill('SIGTERM');
    // draining has begun in every process (they log it), and the request still completes
    for (const p of chain.procs) await p.waitFor('draining');
    release();
    const r = await answer;
    expect(r.status).toBe(200);
    expect(appSaw(path).body).toBe('part one,part two');
    expect(await Promise.all(chain.procs.map((p) => p.exited))).toEqual(chain.procs.map(() => 0));
  });
});
