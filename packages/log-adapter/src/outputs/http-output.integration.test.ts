import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePorts,
  type Proc,
  sleep,
  startComponent,
  tempDir,
  waitForHttp,
} from '../../../../test/support/index.js';

// A real local HTTP endpoint that fails some requests: every record must arrive exactly once
// (failed requests store nothing), retries show in the metrics; a 400 endpoint drops and counts.

let procs: Proc[] = [];
let servers: Server[] = [];
afterEach(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const s of servers) await new Promise((r) => s.close(r));
  procs = [];
  servers = [];
});

function endpoint(
  port: number,
  decide: (n: number) => number,
): { received: string[]; requests: () => number } {
  const received: string[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = decide(++n);
      if (status === 0) {
        req.socket.destroy(); // connection reset mid-request
        return;
      }
      if (status < 300) {
        expect(req.headers['content-type']).toBe('application/x-ndjson');
        received.push(...Buffer.concat(chunks).toString().split('\n').filter(Boolean));
      }
      res.writeHead(status).end();
    });
  });
  server.listen(port, '127.0.0.1');
  servers.push(server);
  return { received, requests: () => n };
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = text.split('\n').find((l) => l.startsWith(name));
  return m ? Number(m.slice(m.lastIndexOf(' ') + 1)) : 0;
}

describe('HTTP output (real local server)', () => {
  it('retries 503s and resets with backoff; every record arrives once', async () => {
    const [port, admin] = await freePorts(2);
    const ep = endpoint(port!, (n) => (n % 3 === 1 ? 503 : n % 5 === 0 ? 0 : 200));
    const dir = tempDir('log-adapter-http');
    const file = join(dir, 'app.log');
    writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `{"level":30,"msg":"m${i}"}\n`).join(''));
    const p = startComponent('log-adapter', [
      '--input',
      file,
      '--output',
      `http://127.0.0.1:${port}/ingest`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--http-batch-size',
      '20000',
      '--http-flush-interval',
      '20ms',
      '--http-retry-base',
      '20ms',
      '--http-retry-max',
      '100ms',
      '--poll-interval',
      '30ms',
    ]);
    procs.push(p);
    const until = Date.now() + 20_000;
    while (ep.received.length < 3000 && Date.now() < until) await sleep(50);
    const bodies = ep.received.map((l) => (JSON.parse(l) as { body: string }).body);
    expect(bodies.length).toBe(3000);
    expect(new Set(bodies).size).toBe(3000);
    expect(await metric(admin!, 'dds_log_adapter_http_retries_total')).toBeGreaterThan(0);
    expect(await metric(admin!, 'dds_log_adapter_records_sent_total{output="http"}')).toBe(3000);
    expect(await metric(admin!, 'dds_log_adapter_lines_parsed_total{format="json"}')).toBe(3000);
    expect(ep.requests()).toBeGreaterThan(3);
  }, 40_000);

  it('an endpoint that rejects (400) gets the batch dropped and counted, and the adapter keeps going', async () => {
    const [port, admin] = await freePorts(2);
    endpoint(port!, () => 400);
    const dir = tempDir('log-adapter-http400');
    const file = join(dir, 'app.log');
    writeFileSync(file, 'one\ntwo\nthree\n');
    const p = startComponent('log-adapter', [
      '--input',
      file,
      '--output',
      `http://127.0.0.1:${port}/`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--http-flush-interval',
      '20ms',
      '--poll-interval',
      '30ms',
    ]);
    procs.push(p);
    await p.waitFor('log endpoint rejected a batch');
    // unparsed lines wait --multiline-timeout for continuation lines, so the last comes later
    const until = Date.now() + 5000;
    while (
      (await metric(admin!, 'dds_log_adapter_records_dropped_total{reason="rejected"}')) < 3 &&
      Date.now() < until
    ) {
      await sleep(50);
    }
    expect(await metric(admin!, 'dds_log_adapter_records_dropped_total{reason="rejected"}')).toBe(3);
    expect(await metric(admin!, 'dds_log_adapter_lines_failed_total{format="auto"}')).toBe(3);
    const health = await fetch(`http://127.0.0.1:${admin}/healthz`);
    expect(health.status).toBe(200);
  }, 30_000);

  it('endpoint down: the bounded buffer fills, files wait (lag grows), nothing is lost once it is back', async () => {
    const [port, admin] = await freePorts(2);
    let down = true;
    const ep = endpoint(port!, () => (down ? 503 : 200));
    const dir = tempDir('log-adapter-http-down');
    const file = join(dir, 'app.log');
    writeFileSync(
      file,
      Array.from({ length: 5000 }, (_, i) => `{"msg":"m${i}","pad":"${'p'.repeat(100)}"}\n`).join(''),
    );
    const p = startComponent('log-adapter', [
      '--input',
      file,
      '--output',
      `http://127.0.0.1:${port}/`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--http-buffer-size',
      '65536',
      '--http-batch-size',
      '16384',
      '--http-flush-interval',
      '20ms',
      '--http-retry-base',
      '20ms',
      '--http-retry-max',
      '50ms',
      '--http-retry-limit',
      '0',
      '--poll-interval',
      '30ms',
    ]);
    procs.push(p);
    await waitForHttp(`http://127.0.0.1:${admin}/healthz`);
    await sleep(1000);
    const lag = await metric(admin!, 'dds_log_adapter_lag_bytes');
    expect(lag).toBeGreaterThan(5000 * 100 - 65536 - 256 * 1024 - 1); // at most buffer + one read chunk taken in
    expect(await metric(admin!, 'dds_log_adapter_records_dropped_total')).toBe(0);
    down = false;
    const until = Date.now() + 20_000;
    while (ep.received.length < 5000 && Date.now() < until) await sleep(50);
    const bodies = ep.received.map((l) => (JSON.parse(l) as { body: string }).body);
    expect(new Set(bodies).size).toBe(5000);
    expect(bodies.length).toBe(5000);
  }, 40_000);

  it('--http-overflow drop: a full buffer drops new batches and counts them', async () => {
    const [port, admin] = await freePorts(2);
    endpoint(port!, () => 503);
    const dir = tempDir('log-adapter-http-drop');
    const file = join(dir, 'app.log');
    writeFileSync(file, Array.from({ length: 40_000 }, (_, i) => `{"msg":"m${i}"}\n`).join('')); // > one read chunk
    const p = startComponent('log-adapter', [
      '--input',
      file,
      '--output',
      `http://127.0.0.1:${port}/`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--http-buffer-size',
      '4096',
      '--http-batch-size',
      '2048',
      '--http-overflow',
      'drop',
      '--http-retry-limit',
      '0',
      '--http-retry-base',
      '50ms',
      '--poll-interval',
      '30ms',
    ]);
    procs.push(p);
    await waitForHttp(`http://127.0.0.1:${admin}/healthz`);
    const until = Date.now() + 10_000;
    while (
      (await metric(admin!, 'dds_log_adapter_records_dropped_total{reason="buffer_full"}')) === 0 &&
      Date.now() < until
    ) {
      await sleep(50);
    }
    expect(
      await metric(admin!, 'dds_log_adapter_records_dropped_total{reason="buffer_full"}'),
    ).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${admin}/healthz`)).status).toBe(200);
  }, 30_000);
});
