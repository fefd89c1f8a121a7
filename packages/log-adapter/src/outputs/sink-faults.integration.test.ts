import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { freePorts, type Proc, sleep, startComponent, tempDir } from '@dds/test-support';
import { exactlyOnce, metric, until, useCleanup } from '@dds/test-support/log-adapter/harness';
import { describe, expect, it } from 'vitest';

// Sink faults against a real local HTTP endpoint (NDJSON output): answers 413 or 500, dropped
// connections, an outage with the port closed, permanent refusals. Lines carry their number; at
// the end every line must have arrived exactly once (failed requests store nothing).

const OUTAGE_MS = Number(process.env.DDS_TEST_OUTAGE_MS ?? 30_000);

type Mode = 'ok' | '413' | '500' | '400' | 'reset' | { maxBytes: number };

interface Endpoint {
  received: number[];
  requests: number;
  mode: Mode;
  down(): Promise<void>;
  up(): Promise<void>;
}

const cleanup = useCleanup();

async function endpoint(port: number, mode: Mode = 'ok'): Promise<Endpoint> {
  let server: Server;
  const ep: Endpoint = {
    received: [],
    requests: 0,
    mode,
    async down() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
    async up() {
      server = listen();
      await new Promise((r) => server.once('listening', r));
    },
  };
  const listen = () => {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        ep.requests++;
        const body = Buffer.concat(chunks);
        const m = ep.mode;
        if (m === 'reset') return req.socket.destroy();
        if (m === '413' || (typeof m === 'object' && body.length > m.maxBytes))
          return res.writeHead(413).end();
        if (m === '500' || m === '400') return res.writeHead(Number(m)).end('no');
        for (const l of body.toString().split('\n'))
          if (l) ep.received.push(Number(/"body":"line (\d+)"/.exec(l)?.[1] ?? -1));
        res.writeHead(200).end();
      });
    });
    s.listen(port, '127.0.0.1');
    cleanup.server(s);
    return s;
  };
  server = listen();
  await new Promise((r) => server.once('listening', r));
  return ep;
}

const numbered = (from: number, to: number) =>
  Array.from(
    { length: to - from },
    (_, i) => `{"level":30,"msg":"line ${from + i}","pad":"${'p'.repeat(60)}"}\n`,
  ).join('');

function adapter(dir: string, port: number, admin: number, extra: string[] = []): Proc {
  const p = startComponent('log-adapter', [
    '--input',
    join(dir, 'app.log'),
    '--output',
    `http://127.0.0.1:${port}/ingest`,
    '--position-file',
    join(dir, 'positions.json'),
    '--batch-size',
    '20000',
    '--flush-interval',
    '30ms',
    '--retry-base',
    '30ms',
    '--retry-max',
    '300ms',
    '--poll-interval',
    '30ms',
    '--position-sync',
    '100ms',
    '--admin',
    `127.0.0.1:${admin}`,
    ...extra,
  ]);
  cleanup.proc(p);
  return p;
}

describe('sink faults (real local HTTP endpoint)', () => {
  it('413 for bodies over a limit: batches are halved until they fit; every line once', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    const ep = await endpoint(port, { maxBytes: 3000 });
    const dir = tempDir('log-adapter-413');
    writeFileSync(join(dir, 'app.log'), numbered(0, 2000));
    const p = adapter(dir, port, admin);
    await until(() => ep.received.length >= 2000, 30_000, '2000 lines');
    await p.kill('SIGTERM');
    exactlyOnce(ep.received, 2000);
    expect(ep.requests).toBeGreaterThan(2000 / 30);
  }, 60_000);

  for (const fault of ['413', '500', 'reset'] as const) {
    it(`the sink answers ${fault === 'reset' ? 'by dropping connections' : fault} for a while: held, then every line once`, async () => {
      const [port, admin] = (await freePorts(2)) as [number, number];
      const ep = await endpoint(port);
      const dir = tempDir(`log-adapter-${fault}`);
      writeFileSync(join(dir, 'app.log'), numbered(0, 500));
      const p = adapter(dir, port, admin);
      await until(() => ep.received.length >= 500, 20_000, 'the first 500 lines');
      ep.mode = fault;
      const before = ep.requests;
      appendFileSync(join(dir, 'app.log'), numbered(500, 1500));
      await until(() => ep.requests >= before + 5, 20_000, 'failed attempts');
      expect(ep.received.length).toBe(500);
      if (fault === '413') {
        // a single record refused for good, with no dead-letter file: held, with a metric and a log line
        await until(
          async () => (await metric(admin, 'dds_log_adapter_output_blocked{output="http"}')) === 1,
          20_000,
          'blocked',
        );
        await p.waitFor('has no dead-letter file');
      }
      expect(await metric(admin, 'dds_log_adapter_records_dropped_total')).toBe(0);
      ep.mode = 'ok';
      await until(() => ep.received.length >= 1500, 30_000, 'all 1500 lines');
      expect(await metric(admin, 'dds_log_adapter_output_blocked{output="http"}')).toBe(0);
      await p.kill('SIGTERM');
      exactlyOnce(ep.received, 1500);
    }, 60_000);
  }

  it(
    `the sink is down for ${OUTAGE_MS / 1000}s and the adapter is SIGKILLed meanwhile: nothing lost or duplicated`,
    async () => {
      const [port, admin] = (await freePorts(2)) as [number, number];
      const ep = await endpoint(port);
      const dir = tempDir('log-adapter-down');
      const app = join(dir, 'app.log');
      writeFileSync(app, '');
      let p = adapter(dir, port, admin);
      let written = 0;
      const write = (n: number) => {
        appendFileSync(app, numbered(written, written + n));
        written += n;
      };
      const writer = setInterval(() => write(50), 100);
      const t0 = Date.now();
      try {
        await until(() => ep.received.length >= 500, 20_000, 'first lines');
        await ep.down();
        await until(
          async () => (await metric(admin, 'dds_log_adapter_output_retries_total{output="http"}')) > 3,
          20_000,
          'retries',
        );
        // half-way through the outage the adapter dies; it comes back while the sink is still down
        await sleep(OUTAGE_MS / 2);
        await p.kill('SIGKILL');
        p = adapter(dir, port, admin);
        await sleep(OUTAGE_MS / 2); // the rest of the outage
        expect(Date.now() - t0).toBeGreaterThanOrEqual(OUTAGE_MS);
        await ep.up();
        await until(() => ep.received.length >= written, 60_000, 'catching up');
      } finally {
        clearInterval(writer);
      }
      write(100);
      await until(() => ep.received.length >= written, 30_000, `all ${written} lines`);
      await p.kill('SIGTERM');
      exactlyOnce(ep.received, written);
    },
    120_000 + OUTAGE_MS,
  );

  it('400 with --dead-letter-dir: the batch goes to the dead-letter file, counted; positions move on', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    const ep = await endpoint(port, '400');
    const dir = tempDir('log-adapter-400');
    writeFileSync(join(dir, 'app.log'), numbered(0, 300));
    const dl = join(dir, 'dead');
    const p = adapter(dir, port, admin, ['--dead-letter-dir', dl]);
    await until(
      async () =>
        (await metric(
          admin,
          'dds_log_adapter_records_dead_lettered_total{output="http",reason="rejected"}',
        )) === 300,
      20_000,
      '300 dead-lettered',
    );
    const lines = readFileSync(join(dl, 'http.ndjson'), 'utf8').trim().split('\n');
    exactlyOnce(
      lines.map((l) => Number(/"body":"line (\d+)"/.exec(l)![1])),
      300,
    );
    await until(() => existsSync(join(dir, 'positions.json')), 5000, 'positions');
    await p.kill('SIGTERM');
    const saved = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as {
      files: Record<string, { offset: number }>;
    };
    expect(Object.values(saved.files)[0]!.offset).toBe(Buffer.byteLength(numbered(0, 300)));
    expect(ep.received).toEqual([]);
  }, 40_000);

  it('--retry-limit with a dead-letter file: a sink that keeps failing gets its batches dead-lettered', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    await endpoint(port, '500');
    const dir = tempDir('log-adapter-exhausted');
    writeFileSync(join(dir, 'app.log'), numbered(0, 100));
    const p = adapter(dir, port, admin, ['--dead-letter-dir', join(dir, 'dead'), '--retry-limit', '3']);
    await until(
      async () =>
        (await metric(
          admin,
          'dds_log_adapter_records_dead_lettered_total{output="http",reason="retries_exhausted"}',
        )) === 100,
      20_000,
      '100 dead-lettered',
    );
    expect(await metric(admin, 'dds_log_adapter_output_retries_total{output="http"}')).toBeGreaterThanOrEqual(
      2,
    );
    await p.kill('SIGTERM');
  }, 40_000);

  it('policy drop: a full queue drops new batches and counts them; positions are not held back', async () => {
    const [port, admin] = (await freePorts(2)) as [number, number];
    await endpoint(port, '500');
    const dir = tempDir('log-adapter-drop');
    writeFileSync(join(dir, 'app.log'), numbered(0, 20_000));
    const p = adapter(dir, port, admin, [
      '--output-policy',
      'drop',
      '--buffer-size',
      '4096',
      '--batch-size',
      '2048',
      '--drain-timeout',
      '1s',
    ]);
    await until(
      async () =>
        (await metric(admin, 'dds_log_adapter_records_dropped_total{output="http",reason="queue_full"}')) > 0,
      20_000,
      'drops',
    );
    await until(
      async () => (await metric(admin, 'dds_log_adapter_lag_bytes')) === 0,
      20_000,
      'positions at the end',
    );
    expect((await fetch(`http://127.0.0.1:${admin}/healthz`)).status).toBe(200);
    await p.kill('SIGTERM');
  }, 40_000);
});
