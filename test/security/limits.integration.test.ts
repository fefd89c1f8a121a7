import { readFileSync } from 'node:fs';
import { connect as connectH2, constants } from 'node:http2';
import type { Socket } from 'node:net';
import { type StrictUpstream, startStrictUpstream } from '@dds/test-support/recording-upstream';
import {
  CERT,
  rawConnect,
  responses,
  startRateLimiter,
  startShardHttp,
  startSplitter,
  startTlsSidecar,
  type Target,
} from '@dds/test-support/security/targets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Oversized and slow bodies, the upstream wait queue and tunnels: a client controls size, count
// and pace, and none of them makes a component hold memory without bound or keep resources.

const MiB = 1024 * 1024;
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/**
 * Writes a body of `total` bytes as fast as the connection takes it and returns how much it
 * took before it stalled (no 'drain' for `stallMs`), and what the server answered meanwhile.
 */
async function push(
  t: Target,
  head: string,
  total: number,
  stallMs = 1500,
  keepOpen = false,
): Promise<{ sent: number; out: () => string; socket: Socket }> {
  const s = await rawConnect(t);
  let out = '';
  s.on('data', (d: Buffer) => {
    out += d.toString('latin1');
  });
  s.on('error', () => {});
  s.write(head);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  while (sent < total && !s.destroyed) {
    sent += chunk.length;
    if (!s.write(chunk)) {
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), stallMs);
        s.once('drain', () => {
          clearTimeout(timer);
          resolve(true);
        });
        s.once('close', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!drained) break;
    }
  }
  if (!keepOpen) s.destroy();
  return { sent, out: () => out, socket: s };
}

// shard-ambassador's HTTP mode has the minimum body rate too, over its fixed 10 s header timeout
describe.each([
  ['tls-sidecar', (u: StrictUpstream) => startTlsSidecar(u.url), true],
  ['experiment-splitter', (u: StrictUpstream) => startSplitter(u.url), true],
  ['rate-limiter', (u: StrictUpstream) => startRateLimiter(u.url), true],
  ['shard-ambassador (http)', (u: StrictUpstream) => startShardHttp(u.port), false],
] as const)('%s: bodies', (_name, start, fastRate) => {
  let upstream: StrictUpstream;
  let target: Target;
  beforeAll(async () => {
    upstream = await startStrictUpstream();
    target = await start(upstream);
  });
  afterAll(async () => {
    await target?.stop();
    await upstream?.close();
  });

  it('an oversized body the app does not read pauses the client instead of piling up', async () => {
    const total = 512 * MiB;
    const { sent } = await push(
      target,
      `POST /hold HTTP/1.1\r\nHost: h\r\nContent-Length: ${total}\r\n\r\n`,
      total,
    );
    // socket buffers on loopback (client, proxy both ways, app) hold a few MiB at most
    expect(sent).toBeLessThan(48 * MiB);
    expect(rssMiB(target.pid!)).toBeLessThan(250);
  });

  if (fastRate)
    it('a body slower than --min-body-rate is cut (408) and never completes upstream', async () => {
      const s = await rawConnect(target);
      let out = '';
      s.on('data', (d: Buffer) => {
        out += d.toString('latin1');
      });
      s.on('error', () => {});
      s.write(`POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(100)}`);
      const started = performance.now();
      // 5 bytes a second against a minimum of 256 (over 2 s windows)
      const drip = setInterval(() => s.write('a'), 200);
      await new Promise((resolve) => s.once('close', resolve));
      clearInterval(drip);
      expect(performance.now() - started).toBeLessThan(9000);
      expect(out).toMatch(/^HTTP\/1\.1 408 /);
      expect(upstream.seen.filter((r) => r.url === '/slow' && r.complete)).toEqual([]);
    });
});

describe('rate-limiter: the upstream wait queue is bounded and timed', () => {
  let upstream: StrictUpstream;
  let target: Target;
  beforeAll(async () => {
    upstream = await startStrictUpstream();
    target = await startRateLimiter(upstream.url, [
      '--upstream-connections',
      '1',
      '--upstream-queue',
      '1',
      '--upstream-queue-timeout',
      '4s',
      '--upstream-timeout',
      '20s',
    ]);
  });
  afterAll(async () => {
    await target?.stop();
    await upstream?.close();
  });

  it('a waiting body is held only up to the high-water mark; a full queue and a long wait get 503', async () => {
    // the only upstream connection is taken by a request the app never answers
    const holder = await rawConnect(target);
    holder.write('GET /hold-1 HTTP/1.1\r\nHost: h\r\n\r\n');
    await upstream.waitFor('/hold-1');
    // a body waiting for a connection: the client is paused at the high-water mark
    const total = 512 * MiB;
    const started = performance.now();
    const queued = push(
      target,
      `POST /q1 HTTP/1.1\r\nHost: h\r\nContent-Length: ${total}\r\n\r\n`,
      total,
      1000,
      true,
    );
    // the queue (1) is full: 503 at once
    const s = await rawConnect(target);
    let out = '';
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        out += d.toString('latin1');
        if (responses(out).length) resolve();
      });
      s.write('GET /q2 HTTP/1.1\r\nHost: h\r\n\r\n');
    });
    expect(out).toMatch(/^HTTP\/1\.1 503 [\s\S]*\r\nretry-after: 1\r\n/i);
    s.destroy();
    // the waiting body stalled, long before the queue timeout ended its wait
    const q1 = await queued;
    expect(q1.sent).toBeLessThan(48 * MiB);
    expect(q1.out()).toBe('');
    // then it waited longer than --upstream-queue-timeout: 503
    await new Promise<void>((resolve) => {
      const check = () => responses(q1.out()).length > 0 && resolve();
      q1.socket.on('data', () => setImmediate(check));
      check();
    });
    expect(q1.out()).toMatch(/^HTTP\/1\.1 503 /);
    expect(performance.now() - started).toBeGreaterThan(3500);
    q1.socket.destroy();
    expect(upstream.seen.map((r) => r.url)).toEqual(['/hold-1']);
    holder.destroy();
  });
});

describe('rate-limiter: the process-wide buffer budget', () => {
  let upstream: StrictUpstream;
  let target: Target;
  beforeAll(async () => {
    upstream = await startStrictUpstream();
    target = await startRateLimiter(upstream.url, [
      '--upstream-connections',
      '1',
      '--upstream-queue-timeout',
      '30s',
      '--upstream-timeout',
      '30s',
      '--body-high-water',
      String(1 * MiB),
      '--buffer-budget',
      String(1 * MiB),
    ]);
  });
  afterAll(async () => {
    await target?.stop();
    await upstream?.close();
  });

  it('bodies of many waiting requests together stay within --buffer-budget, each under its high-water mark', async () => {
    const holder = await rawConnect(target);
    holder.write('GET /hold-b HTTP/1.1\r\nHost: h\r\n\r\n');
    await upstream.waitFor('/hold-b');
    const total = 64 * MiB;
    const head = (i: number) => `POST /b${i} HTTP/1.1\r\nHost: h\r\nContent-Length: ${total}\r\n\r\n`;
    const pushed = await Promise.all(
      Array.from({ length: 8 }, (_, i) => push(target, head(i), total, 1000, true)),
    );
    const text = await (await fetch(`http://127.0.0.1:${target.admin}/metrics`)).text();
    const held = Number(/^dds_http_held_body_bytes (\d+)/m.exec(text)![1]);
    // 8 requests with a 1 MiB high-water mark would hold 8 MiB; the budget is 1 MiB (each client
    // is paused after the read that crossed it: one socket read of at most 64 KiB each)
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(1 * MiB + 8 * 64 * 1024);
    for (const p of pushed) p.socket.destroy();
    holder.destroy();
  });
});

describe.each([
  ['rate-limiter', (u: StrictUpstream) => startRateLimiter(u.url, ['--tunnel-idle-timeout', '1s'])],
  ['tls-sidecar', (u: StrictUpstream) => startTlsSidecar(u.url, ['--tunnel-idle-timeout', '1s'])],
] as const)('%s: tunnels', (_name, start) => {
  let upstream: StrictUpstream;
  let target: Target;
  beforeAll(async () => {
    upstream = await startStrictUpstream({ acceptWebSocket: true });
    target = await start(upstream);
  });
  afterAll(async () => {
    await target?.stop();
    await upstream?.close();
  });

  it('splices on a 101 for the asked-for protocol (bytes sent early wait for it), and closes when idle', async () => {
    const s = await rawConnect(target);
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.write(
      'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nearly',
    );
    await new Promise<void>((resolve) => s.on('data', () => out.includes('early') && resolve()));
    expect(out).toMatch(/^HTTP\/1\.1 101 /);
    s.write('ping');
    await new Promise<void>((resolve) => s.on('data', () => out.endsWith('ping') && resolve()));
    const idleFrom = performance.now();
    await closed;
    expect(performance.now() - idleFrom).toBeGreaterThan(800);
    expect(upstream.seen.map((r) => r.url)).toEqual(['/ws']);
  });

  it('a 101 for another protocol than the one asked for is not spliced (502, closed)', async () => {
    const s = await rawConnect(target);
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    s.write('GET /x HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n');
    await new Promise((resolve) => s.once('close', resolve));
    // the test upstream answers 101 with Upgrade: websocket to a request for foo
    expect(out).toMatch(/^HTTP\/1\.1 502 /);
  });
});

describe('tls-sidecar: HTTP/2 bodies', () => {
  let upstream: StrictUpstream;
  let target: Target;
  beforeAll(async () => {
    upstream = await startStrictUpstream();
    target = await startTlsSidecar(upstream.url);
  });
  afterAll(async () => {
    await target?.stop();
    await upstream?.close();
  });

  it('an HTTP/2 body slower than --min-body-rate is reset and never completes upstream', async () => {
    const session = connectH2(`https://localhost:${target.port}`, { ca: CERT.pem });
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': '/slow-h2', 'content-length': '100000' });
    stream.on('error', () => {});
    stream.write('a'.repeat(100));
    const started = performance.now();
    const drip = setInterval(() => stream.write('a'), 200);
    const code = await new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
    clearInterval(drip);
    session.close();
    expect(code).toBe(constants.NGHTTP2_CANCEL);
    expect(performance.now() - started).toBeLessThan(9000);
    expect(upstream.seen.filter((r) => r.url === '/slow-h2' && r.complete)).toEqual([]);
  });

  it('an HTTP/2 body at a normal pace is forwarded whole', async () => {
    const session = connectH2(`https://localhost:${target.port}`, { ca: CERT.pem });
    const stream = session.request({ ':method': 'POST', ':path': '/fast-h2' });
    stream.end(Buffer.alloc(256 * 1024, 0x62));
    let body = '';
    stream.on('data', (d: Buffer) => {
      body += d.toString();
    });
    await new Promise((resolve) => stream.on('end', resolve));
    session.close();
    expect(body).toBe(`seen POST /fast-h2 ${256 * 1024}\n`);
  });
});
