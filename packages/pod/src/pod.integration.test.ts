import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import {
  bin,
  freePorts,
  type Proc,
  run,
  start,
  startComponent,
  tempDir,
  waitForHttp,
} from '@dds/test-support';
import { type RecordingUpstream, startUpstream } from '@dds/test-support/recording-upstream';
import { selfSignedCert } from '@dds/test-support/self-signed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A pod chain (TLS -> rate limit -> app) in one dds-pod process must answer exactly as the same
// two components do as separate processes: the same scenario runs against both and the answers,
// and what the app received, are compared.

const dir = tempDir('pod');
const tls = selfSignedCert();
const POD = bin('pod');

interface Observed {
  answers: { status: number; headers: Record<string, string | undefined>; body: string }[];
  upstreamSaw: Record<string, unknown>[];
}

function get(
  port: number,
  path: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        rejectUnauthorized: false,
        agent: false,
        headers: { 'x-test': 'pod' },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers as Record<string, string>, body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Six requests through the chain: three admitted (burst 2 + 1), three refused with 429. */
async function scenario(frontPort: number, upstream: RecordingUpstream): Promise<Observed> {
  upstream.seen.length = 0;
  const answers: Observed['answers'] = [];
  for (let i = 0; i < 6; i++) {
    const r = await get(frontPort, `/item/${i}?q=${i}`);
    const keep = [
      'content-type',
      'x-upstream',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-policy',
      'x-ratelimit-limit',
      'strict-transport-security',
    ];
    answers.push({
      status: r.status,
      headers: Object.fromEntries(keep.map((k) => [k, r.headers[k]])),
      body: r.body,
    });
  }
  const upstreamSaw = upstream.seen.map((s) => ({
    method: s.method,
    url: s.url,
    'x-forwarded-for': s.headers['x-forwarded-for'],
    'x-forwarded-proto': s.headers['x-forwarded-proto'],
    'x-test': s.headers['x-test'],
    // the front's port differs between the two runs
    host: s.headers.host?.replace(/:\d+$/, ':PORT'),
    'x-forwarded-host': String(s.headers['x-forwarded-host'] ?? '').replace(/:\d+$/, ':PORT'),
  }));
  return { answers, upstreamSaw };
}

const limiterArgs = ['--rate', '1/m', '--burst', '2'];

let upstream: RecordingUpstream;
beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(() => upstream.close());

describe('dds-pod', () => {
  it('a TLS -> rate limit -> app chain in-process (internal:) answers exactly as the separate processes do', async () => {
    const [tlsPort, tlsAdmin, rlPort, rlAdmin, podTls, podAdmin] = await freePorts(6);
    const procs: Proc[] = [];
    try {
      procs.push(
        startComponent('rate-limiter', [
          '--listen',
          `127.0.0.1:${rlPort}`,
          '--admin',
          `127.0.0.1:${rlAdmin}`,
          '--upstream',
          upstream.url,
          ...limiterArgs,
        ]),
        startComponent('tls-sidecar', [
          '--listen',
          `127.0.0.1:${tlsPort}`,
          '--admin',
          `127.0.0.1:${tlsAdmin}`,
          '--cert',
          tls.cert,
          '--key',
          tls.key,
          '--upstream',
          `http://127.0.0.1:${rlPort}`,
        ]),
      );
      await waitForHttp(`http://127.0.0.1:${rlAdmin}/readyz`);
      await waitForHttp(`http://127.0.0.1:${tlsAdmin}/readyz`);
      const separate = await scenario(tlsPort!, upstream);

      const file = join(dir, 'chain.yaml');
      writeFileSync(
        file,
        `admin: 127.0.0.1:${podAdmin}
components:
  tls-sidecar:
    listen: 127.0.0.1:${podTls}
    cert: ${tls.cert}
    key: ${tls.key}
    upstream: internal:rate-limiter
  rate-limiter:
    listen: "off"
    upstream: ${upstream.url}
    rate: 1/m
    burst: 2
`,
      );
      const pod = start(process.execPath, [POD, '--config', file]);
      procs.push(pod);
      await waitForHttp(`http://127.0.0.1:${podAdmin}/readyz`);
      const inPod = await scenario(podTls!, upstream);

      expect(separate.answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429, 429]);
      expect(inPod).toEqual(separate);

      // one admin port: both components' readiness and both components' series
      const ready = (await (await fetch(`http://127.0.0.1:${podAdmin}/readyz`)).json()) as {
        checks: Record<string, unknown>;
      };
      expect(Object.keys(ready.checks)).toEqual(expect.arrayContaining(['tls-sidecar', 'rate-limiter']));
      const metrics = await (await fetch(`http://127.0.0.1:${podAdmin}/metrics`)).text();
      expect(metrics).toMatch(/component="tls-sidecar"/);
      expect(metrics).toMatch(/component="rate-limiter"/);
      expect(metrics.match(/^# TYPE dds_process_resident_memory_bytes /gm) ?? []).toHaveLength(1);
      expect((await fetch(`http://127.0.0.1:${podAdmin}/ratelimit`)).status).toBe(200);

      // an in-process hop carries requests, not byte streams: a WebSocket upgrade is refused plainly
      const ws = await run('curl', [
        '-sk',
        '--http1.1',
        '-H',
        'Connection: Upgrade',
        '-H',
        'Upgrade: websocket',
        '-H',
        'Sec-WebSocket-Version: 13',
        '-H',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        '-w',
        ' %{http_code}',
        `https://127.0.0.1:${podTls}/ws`,
      ]);
      expect(ws.stdout).toBe('upgrades do not pass an internal: upstream\n 502');

      // one drain: readiness turns 503, the process exits 0
      pod.child.kill('SIGTERM');
      expect(await pod.exited).toBe(0);
    } finally {
      for (const p of procs) await p.kill('SIGKILL');
    }
  }, 60_000);

  it('validates each section as the component validates its own file, naming components.<name>.<field>', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      `components:
  rate-limiter:
    upstream: http://127.0.0.1:1
    rate: lots
    admin: 127.0.0.1:1
  tls-sidecar:
    cert: ${tls.cert}
    key: ${tls.key}
    listen: nowhere
  mail-relay: {}
`,
    );
    const r = await run(process.execPath, [POD, '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/components\.rate-limiter\.rate: .*\(got "lots"\)/);
    expect(r.stderr).toMatch(/components\.rate-limiter\.admin: set once for the whole pod/);
    expect(r.stderr).toMatch(/components\.tls-sidecar\.listen: invalid address/);
    expect(r.stderr).toMatch(/components\.mail-relay: unknown component; one of tls-sidecar, rate-limiter/);
    // the shard ambassador's section is its nutcracker.yaml: pools at the top, settings under dds:
    const shard = join(dir, 'shard.yaml');
    const section = `  shard-ambassador:
    alpha: { listen: "127.0.0.1:1", redis: true, hash: farmhash, servers: ["127.0.0.1:2:1"] }
    dds: { hotkeysTop: 5 }
`;
    writeFileSync(shard, `components:\n${section}`);
    const printed = await run(process.execPath, [POD, '--config', shard, '--print-config']);
    expect(printed.stderr).toBe('');
    expect(printed.stdout).toMatch(/^ {4}pools:\n {6}alpha:\n(.*\n)* {8}hash: farmhash$/m);
    expect(printed.stdout).toMatch(/^ {4}hotkeys:\n {6}top: 5$/m);
    writeFileSync(shard, `components:\n${section.replace('hotkeysTop: 5', 'drainTimeout: 5s')}`);
    const podLevel = await run(process.execPath, [POD, '--config', shard]);
    expect(podLevel.code).toBe(2);
    expect(podLevel.stderr).toMatch(/components\.shard-ambassador\.drainTimeout: set once for the whole pod/);
    const none = await run(process.execPath, [POD]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give the pod file: dds-pod --config pod.yaml/);
    const help = await run(process.execPath, [POD, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--config FILE/);
    expect(help.stdout).toMatch(/--check-config/);
  }, 30_000);

  it('checks the internal: hops, naming the field: unknown or non-HTTP components, loops, a listen: off nothing reaches; a component alone refuses them', async () => {
    const file = join(dir, 'hops.yaml');
    const check = async (yaml: string) => {
      writeFileSync(file, yaml);
      const r = await run(process.execPath, [POD, '--config', file, '--check-config']);
      expect(r.code, r.stderr).toBe(2);
      return r.stderr;
    };
    expect(
      await check(`components:
  tls-sidecar: { cert: ${tls.cert}, key: ${tls.key}, upstream: "internal:experiment-splitter" }
`),
    ).toMatch(
      /components\.tls-sidecar\.upstream: internal:experiment-splitter: no such component in this pod \(it has tls-sidecar\)/,
    );
    expect(
      await check(`components:
  rate-limiter: { upstream: "internal:metrics-adapter", rate: 1/s }
  metrics-adapter: { redis: "127.0.0.1:6379" }
`),
    ).toMatch(
      /components\.rate-limiter\.upstream: internal:metrics-adapter: only rate-limiter and experiment-splitter take HTTP requests in-process/,
    );
    const loop = await check(`components:
  rate-limiter: { listen: "off", upstream: "internal:experiment-splitter", rate: 1/s }
  experiment-splitter: { listen: "off", control: "internal:rate-limiter", experiment: "http://127.0.0.1:1" }
`);
    expect(loop).toMatch(
      /components\.experiment-splitter\.control: internal: upstreams make a loop: experiment-splitter -> rate-limiter -> experiment-splitter/,
    );
    expect(
      await check(`components:
  rate-limiter: { listen: "off", upstream: "http://127.0.0.1:1", rate: 1/s }
`),
    ).toMatch(
      /components\.rate-limiter\.listen: off, but no internal:rate-limiter upstream in the pod names it/,
    );
    expect(
      await check(`components:
  rate-limiter: { upstream: "internal:", rate: 1/s }
`),
    ).toMatch(/components\.rate-limiter\.upstream: expected http:\/\/host:port, .* or internal:<component>/);
    // alone, a component has no other component to hand requests to
    const alone = await run(process.execPath, [
      bin('rate-limiter'),
      '--upstream=internal:experiment-splitter',
      '--listen=off',
      '--rate=1/s',
      '--check-config',
    ]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/listen: off is for dds-pod/);
    expect(alone.stderr).toMatch(
      /upstream: internal:experiment-splitter names a component of the same dds-pod process/,
    );
  }, 30_000);
});
