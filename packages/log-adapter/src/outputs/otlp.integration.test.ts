import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePorts,
  type Proc,
  selfSignedCert,
  sleep,
  startComponent,
  tempDir,
  waitForPort,
} from '@dds/test-support';
import { linesBeforeSaved, until, useCleanup } from '@dds/test-support/log-adapter/harness';
import {
  type Arrival,
  attrs,
  collectorAccepted,
  startCollector,
  startRecorder,
} from '@dds/test-support/log-adapter/peers';
import { describe, expect, it } from 'vitest';
import { stampNanos } from './otlp-encode.js';

// OTLP/HTTP against a real OpenTelemetry Collector (built from its Go modules by
// scripts/install-otelcol.sh). The collector forwards to a recorder without a queue of its own,
// so it answers the adapter only once a record reached the recorder, and what the recorder sees
// is the collector's own reading of what the adapter sent.

/** How long the collector is down in the outage test (tens of seconds in the full suite). */
const OUTAGE_MS = Number(process.env.DDS_TEST_OUTAGE_MS ?? 30_000);

const cleanup = useCleanup();

const numbered = (from: number, to: number) =>
  Array.from(
    { length: to - from },
    (_, i) => `{"level":30,"time":1795880948123,"msg":"line ${from + i}"}\n`,
  ).join('');
const lineNo = (a: Arrival) => Number(/^line (\d+)$/.exec(a.record.body?.stringValue ?? '')?.[1] ?? -1);

async function collector(tls?: { cert: string; key: string }): Promise<{
  port: number;
  metrics: number;
  recPort: number;
  arrivals: Arrival[];
  proc: Proc;
  restart(): Promise<Proc>;
}> {
  const [port, recPort, metrics] = (await freePorts(3)) as [number, number, number];
  const rec = await startRecorder(recPort);
  cleanup.server(rec.server);
  const launch = async () => {
    const p = startCollector(port, recPort, metrics, tls);
    cleanup.proc(p);
    await waitForPort(port, '127.0.0.1', 20_000);
    return p;
  };
  const c = {
    port,
    metrics,
    recPort,
    arrivals: rec.arrivals,
    proc: await launch(),
    restart: async () => {
      c.proc = await launch();
      return c.proc;
    },
  };
  return c;
}

describe('OTLP output (real OpenTelemetry Collector)', () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    it(`every field of the normalized record arrives where the OTel log data model puts it (${encoding})`, async () => {
      const c = await collector();
      const [admin] = await freePorts(1);
      const dir = tempDir('log-adapter-otlp-fields');
      // a kubelet-style path: the container's identity becomes resource attributes
      const app = join(dir, `shop-7d9c_prod_nginx-${'ab'.repeat(32)}.log`);
      writeFileSync(
        app,
        [
          '{"level":50,"time":1795880948123,"msg":"payment failed","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","order":{"id":17,"total":12.5,"tags":["a","b"]},"retry":true}',
          '198.51.100.23 - alice [28/Nov/2026:15:49:09 +0000] "POST /api/v1/orders?dry_run=true HTTP/1.1" 201 87 "https://shop.example.com/cart" "curl/8.5.0"',
          '2026-11-28T15:49:09.123456789Z stdout F worker 3 done',
          'a line no parser knows',
          '',
        ].join('\n'),
      );
      const out = join(dir, 'out.ndjson');
      const p = startComponent(
        'log-adapter',
        [
          '--input',
          app,
          '--output',
          `otlp-http://127.0.0.1:${c.port}`,
          '--output',
          `file:${out}`,
          '--otlp-encoding',
          encoding,
          '--flush-interval',
          '50ms',
          '--multiline-timeout',
          '100ms',
          '--poll-interval',
          '30ms',
          '--resource',
          'deployment.environment=test',
          '--admin',
          `127.0.0.1:${admin}`,
        ],
        { env: { POD_NAMESPACE: 'prod', OTEL_SERVICE_NAME: 'shop' } },
      );
      cleanup.proc(p);
      await until(() => c.arrivals.length >= 4, 20_000, 'four records at the recorder');
      await until(() => readFileSync(out, 'utf8').split('\n').length > 4, 5000, 'the file output');
      const records = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(c.arrivals.length).toBe(4);
      expect(await collectorAccepted(c.metrics)).toBe(4);
      for (const r of records) {
        const a = c.arrivals.find((x) => x.record.body?.stringValue === r.body);
        expect(a, String(r.body)).toBeDefined();
        const got = a!.record;
        if (r.timestamp) expect(got.timeUnixNano).toBe(String(stampNanos(r.timestamp as string)));
        else expect(got.timeUnixNano ?? '0').toBe('0');
        expect(got.observedTimeUnixNano).toBe(String(stampNanos(r.observed_timestamp as string)));
        expect(got.severityNumber ?? 0).toBe(r.severity_number ?? 0);
        expect(got.severityText ?? '').toBe(r.severity_text ?? '');
        expect(got.traceId ?? '').toBe(r.trace_id ?? '');
        expect(got.spanId ?? '').toBe(r.span_id ?? '');
        expect(attrs(got)).toEqual(r.attributes);
        expect(a!.resource).toEqual(r.resource);
      }
      // spot checks against the data model itself, not only against our own file output
      const pay = c.arrivals.find((x) => x.record.body?.stringValue === 'payment failed')!;
      expect(pay.record.severityNumber).toBe(17);
      expect(pay.record.timeUnixNano).toBe('1795880948123000000');
      expect(pay.record.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(attrs(pay.record).order).toEqual({ id: 17, total: 12.5, tags: ['a', 'b'] });
      expect(pay.resource).toMatchObject({
        'k8s.pod.name': 'shop-7d9c',
        'k8s.namespace.name': 'prod',
        'k8s.container.name': 'nginx',
        'service.name': 'shop',
        'deployment.environment': 'test',
      });
      const cri = c.arrivals.find((x) => x.record.body?.stringValue === 'worker 3 done')!;
      expect(cri.record.timeUnixNano).toBe('1795880949123456789');
      const access = c.arrivals.find((x) => String(x.record.body?.stringValue).startsWith('198.51.100.23'))!;
      expect(attrs(access.record)['http.response.status_code']).toBe(201);
      await p.kill('SIGTERM');
    }, 60_000);
  }

  it(
    `the collector is down for ${OUTAGE_MS / 1000}s mid-stream, then back: every line arrives once`,
    async () => {
      const c = await collector();
      const dir = tempDir('log-adapter-otlp-outage');
      const app = join(dir, 'app.log');
      writeFileSync(app, '');
      const p = startComponent('log-adapter', [
        '--input',
        app,
        '--output',
        `otlp-http://127.0.0.1:${c.port}`,
        '--position-file',
        join(dir, 'positions.json'),
        '--flush-interval',
        '100ms',
        '--retry-base',
        '100ms',
        '--retry-max',
        '2s',
        '--poll-interval',
        '50ms',
        '--admin',
        'off',
      ]);
      cleanup.proc(p);
      let written = 0;
      const write = (n: number) => {
        appendFileSync(app, numbered(written, written + n));
        written += n;
      };
      const writer = setInterval(() => write(50), 100);
      try {
        await until(() => c.arrivals.length >= 500, 20_000, 'first records');
        await c.proc.kill('SIGTERM');
        const atStop = c.arrivals.length;
        await sleep(OUTAGE_MS); // the outage itself: the collector stays down this long
        expect(c.arrivals.length).toBe(atStop);
        await c.restart();
        await until(() => c.arrivals.length > atStop + 500, 30_000, 'records after the restart');
      } finally {
        clearInterval(writer);
      }
      write(100);
      await until(() => c.arrivals.length >= written, 30_000, `all ${written} lines`);
      await p.kill('SIGTERM');
      const seen = c.arrivals.map(lineNo).sort((a, b) => a - b);
      expect(seen.length).toBe(written);
      expect(new Set(seen).size).toBe(written);
      expect(seen[0]).toBe(0);
      expect(seen[written - 1]).toBe(written - 1);
    },
    120_000 + OUTAGE_MS,
  );

  it('SIGKILL of the adapter mid-stream, then a restart: nothing lost, duplicates only after the saved position', async () => {
    const c = await collector();
    const dir = tempDir('log-adapter-otlp-kill');
    const app = join(dir, 'app.log');
    const positions = join(dir, 'positions.json');
    writeFileSync(app, '');
    const args = [
      '--input',
      app,
      '--output',
      `otlp-http://127.0.0.1:${c.port}`,
      '--position-file',
      positions,
      '--position-sync',
      '200ms',
      '--flush-interval',
      '50ms',
      '--poll-interval',
      '30ms',
      '--admin',
      'off',
    ];
    let p = startComponent('log-adapter', args);
    cleanup.proc(p);
    let written = 0;
    const write = (n: number) => {
      appendFileSync(app, numbered(written, written + n));
      written += n;
    };
    const writer = setInterval(() => write(100), 50);
    let linesBefore = 0;
    try {
      await until(() => c.arrivals.length >= 3000, 30_000, 'records before the kill');
      await until(
        () => existsSync(positions) && linesBeforeSaved(positions, app) > 0,
        10_000,
        'a saved position',
      );
      await p.kill('SIGKILL');
      linesBefore = linesBeforeSaved(positions, app);
      const atKill = c.arrivals.length;
      p = startComponent('log-adapter', args);
      cleanup.proc(p);
      await until(() => c.arrivals.length > atKill + 500, 30_000, 'records after the restart');
    } finally {
      clearInterval(writer);
    }
    await until(() => new Set(c.arrivals.map(lineNo)).size >= written, 30_000, `all ${written} lines`);
    await p.kill('SIGTERM');
    const counts = new Map<number, number>();
    for (const a of c.arrivals) counts.set(lineNo(a), (counts.get(lineNo(a)) ?? 0) + 1);
    for (let i = 0; i < written; i++) expect(counts.get(i), `line ${i}`).toBeGreaterThanOrEqual(1);
    const twice = [...counts].filter(([, n]) => n > 1);
    // the at-least-once window: only lines after the last saved position are sent again, once
    for (const [line, n] of twice) {
      expect(n).toBe(2);
      expect(line).toBeGreaterThanOrEqual(linesBefore);
    }
    expect(linesBefore).toBeGreaterThan(0);
  }, 120_000);

  it('otlp-https:// verifies the collector with --http-tls-ca; without it the records are held, not lost', async () => {
    const cert = selfSignedCert('127.0.0.1');
    const c = await collector({ cert: cert.cert, key: cert.key });
    const [admin] = (await freePorts(1)) as [number];
    const dir = tempDir('log-adapter-otlp-tls');
    const app = join(dir, 'app.log');
    writeFileSync(app, numbered(0, 100));
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, 'httpTlsCa: ""\n');
    const p = startComponent('log-adapter', [
      '--config',
      cfg,
      '--input',
      app,
      '--output',
      `otlp-https://127.0.0.1:${c.port}`,
      '--flush-interval',
      '20ms',
      '--retry-max',
      '200ms',
      '--poll-interval',
      '30ms',
      '--admin',
      `127.0.0.1:${admin}`,
    ]);
    cleanup.proc(p);
    await p.waitFor(/(certificate|self.signed|SELF_SIGNED).*output failed; retrying/i, 30_000);
    expect(c.arrivals.length).toBe(0);
    // trusting the CA is a reload away
    writeFileSync(cfg, `httpTlsCa: ${cert.cert}\n`);
    process.kill(p.child.pid!, 'SIGHUP');
    await until(() => c.arrivals.length >= 100, 20_000, '100 records over TLS');
    await p.kill('SIGTERM');
    expect(new Set(c.arrivals.map(lineNo)).size).toBe(100);
    expect(c.arrivals.length).toBe(100);
  }, 60_000);
});
