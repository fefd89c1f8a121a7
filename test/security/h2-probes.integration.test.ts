import { type Service, startNginx } from '@dds/test-support';
import { type StrictUpstream, startStrictUpstream } from '@dds/test-support/recording-upstream';
import { h2Request } from '@dds/test-support/security/h2-raw';
import { problems } from '@dds/test-support/security/probes';
import { CERT, startTlsSidecar, type Target } from '@dds/test-support/security/targets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The shared adversarial suite, HTTP/2 side: the TLS sidecar turns HTTP/2 requests into HTTP/1.1
// ones, so a malformed HTTP/2 request must never become a well-formed (or smuggling) HTTP/1.1
// request upstream. Raw frames, against the sidecar and against nginx (TLS, http2) as reference.

type Fields = [string, string][];
const base = (method = 'GET', path = '/h2'): Fields => [
  [':method', method],
  [':scheme', 'https'],
  [':path', path],
  [':authority', 'h'],
];

interface H2Probe {
  name: string;
  fields: Fields;
  data?: string[];
  /** complete requests dds forwards; when 1, the request the upstream sees */
  ours: 0 | 1;
  body?: string;
  /**
   * Node's nghttp2 binding drops a field whose value holds CR, LF or NUL before any JS sees it
   * (its invalid-header callback ignores the field): the request is forwarded without it, so
   * nothing is injected, where nginx answers 400. A known gap in strictness, not in what arrives.
   */
  dropped?: string;
}

const H2_PROBES: H2Probe[] = [
  { name: 'a valid GET (control)', fields: base(), ours: 1 },
  {
    name: 'a POST whose content-length matches its DATA',
    fields: [...base('POST'), ['content-length', '5']],
    data: ['hello'],
    ours: 1,
    body: 'hello',
  },
  {
    name: 'a POST without content-length (re-chunked)',
    fields: base('POST'),
    data: ['hel', 'lo'],
    ours: 1,
    body: 'hello',
  },
  {
    name: 'content-length larger than the DATA',
    fields: [...base('POST'), ['content-length', '10']],
    data: ['hello'],
    ours: 0,
  },
  {
    name: 'content-length smaller than the DATA (a smuggled request after it)',
    fields: [...base('POST'), ['content-length', '5']],
    data: ['helloGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n'],
    ours: 0,
  },
  {
    name: 'two different content-lengths',
    fields: [...base('POST'), ['content-length', '5'], ['content-length', '6']],
    data: ['hello'],
    ours: 0,
  },
  {
    name: 'transfer-encoding: chunked',
    fields: [...base('POST'), ['transfer-encoding', 'chunked']],
    data: ['5\r\nhello\r\n0\r\n\r\n'],
    ours: 0,
  },
  { name: 'connection: keep-alive', fields: [...base(), ['connection', 'keep-alive']], ours: 0 },
  { name: 'keep-alive header', fields: [...base(), ['keep-alive', 'timeout=5']], ours: 0 },
  { name: 'upgrade header', fields: [...base(), ['upgrade', 'websocket']], ours: 0 },
  { name: 'proxy-connection header', fields: [...base(), ['proxy-connection', 'keep-alive']], ours: 0 },
  { name: 'te: gzip', fields: [...base(), ['te', 'gzip']], ours: 0 },
  {
    name: 'CR/LF in a value (a header injected upstream)',
    fields: [...base(), ['x-a', 'b\r\nX-Forwarded-For: 6.6.6.6']],
    ours: 1,
    dropped: 'x-a',
  },
  {
    name: 'LF in a value',
    fields: [...base(), ['x-a', 'b\nGET /smuggled HTTP/1.1']],
    ours: 1,
    dropped: 'x-a',
  },
  { name: 'NUL in a value', fields: [...base(), ['x-a', 'b\0c']], ours: 1, dropped: 'x-a' },
  { name: 'an upper-case field name', fields: [...base(), ['X-Upper', 'a']], ours: 0 },
  {
    name: 'a pseudo-header after a regular field',
    fields: [
      [':method', 'GET'],
      [':scheme', 'https'],
      ['x-a', 'b'],
      [':path', '/h2'],
      [':authority', 'h'],
    ],
    ours: 0,
  },
  { name: 'an unknown pseudo-header', fields: [...base(), [':foo', 'bar']], ours: 0 },
  { name: 'a :path that is not origin-form', fields: base('GET', 'h2'), ours: 0 },
  { name: 'CR/LF in :path', fields: base('GET', '/a HTTP/1.1\r\nX-A: b'), ours: 0 },
  {
    name: 'two authorization fields',
    fields: [...base(), ['authorization', 'Bearer a'], ['authorization', 'Bearer b']],
    ours: 0,
  },
  { name: ':authority and host disagree', fields: [...base(), ['host', 'evil']], ours: 0 },
  {
    name: 'two host fields',
    fields: [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/h2'],
      ['host', 'h'],
      ['host', 'evil'],
    ],
    ours: 0,
  },
  {
    name: 'neither :authority nor host',
    fields: [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/h2'],
    ],
    ours: 0,
  },
  {
    name: 'a host with a path in it',
    fields: [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/h2'],
      [':authority', 'h/../admin'],
    ],
    ours: 0,
  },
];

interface Run {
  target: Target;
  upstream: StrictUpstream;
}
const runs: Run[] = [];
const forwarded = new Map<string, Map<string, number>>();
let barrier = 0;

beforeAll(async () => {
  const up1 = await startStrictUpstream();
  runs.push({ target: await startTlsSidecar(up1.url), upstream: up1 });
  const up2 = await startStrictUpstream();
  const nginx: Service = await startNginx(`
    upstream app { server 127.0.0.1:${up2.port}; keepalive 16; }
    server {
      listen 127.0.0.1:PORT ssl http2;
      server_name localhost;
      ssl_certificate ${CERT.cert};
      ssl_certificate_key ${CERT.key};
      location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
      }
    }`);
  runs.push({
    target: { name: 'nginx', port: nginx.port, tls: true, reference: true, stop: () => nginx.stop() },
    upstream: up2,
  });
});

afterAll(async () => {
  for (const r of runs) {
    await r.target.stop();
    await r.upstream.close();
  }
});

describe.each(['nginx', 'tls-sidecar'])('%s: adversarial HTTP/2 probes', (name) => {
  const r = () => runs.find((x) => x.target.name === name)!;

  it.each(H2_PROBES.map((p) => [p.name, p] as const))('%s', async (_n, p) => {
    const { target, upstream } = r();
    upstream.seen.length = 0;
    const outcome = await h2Request(target.port, CERT.pem, p.fields, p.data);
    const mark = `/barrier-${++barrier}`;
    await h2Request(target.port, CERT.pem, base('GET', mark));
    await upstream.waitFor(mark);
    const seen = upstream.seen.filter((s) => s.url !== mark);
    const complete = seen.filter((s) => s.complete);
    // a body cut short upstream (the proxy streams bodies) is not a request the upstream served
    for (const s of seen.filter((x) => !x.complete))
      expect(s.url).toBe(p.fields.find((f) => f[0] === ':path')![1]);
    const legit = p.ours ? [{ method: p.fields[0]![1], url: '/h2', body: p.body ?? '' }] : [];
    if (p.dropped)
      for (const s of seen) expect(s.rawHeaders.map((h) => h.toLowerCase())).not.toContain(p.dropped);
    if (!target.reference) {
      expect(problems(complete, legit), JSON.stringify(outcome)).toEqual([]);
      expect(complete.length, JSON.stringify(outcome)).toBe(p.ours);
      if (p.ours) expect(outcome.status).toBe(200);
      else expect(outcome.status).not.toBe(200);
    }
    const m = forwarded.get(p.name) ?? new Map<string, number>();
    m.set(name, complete.length);
    forwarded.set(p.name, m);
  });
});

describe('HTTP/2: dds is at least as strict as nginx', () => {
  it.each(H2_PROBES.filter((p) => !p.dropped).map((p) => [p.name] as const))('%s', (probeName) => {
    const m = forwarded.get(probeName)!;
    expect(m.get('tls-sidecar')).toBeLessThanOrEqual(m.get('nginx')!);
  });
});
