// Graceful drain, with something actually in flight: on SIGTERM a pipelined request that already
// reached the proxy completes (the connection closes after its answer), and a request that outlasts
// --drain-timeout is cut off at the deadline, after which the process exits 0.
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { freePorts, type Proc, selfSignedCert, startComponent } from '@dds/test-support';
import { type HoldingUpstream, holdingUpstream } from '@dds/test-support/lifecycle';
import { afterEach, describe, expect, it } from 'vitest';

const procs: Proc[] = [];
const upstreams: HoldingUpstream[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  for (const u of upstreams.splice(0)) {
    u.release();
    await u.close();
  }
});

async function proxy(pkg: string, args: string[]) {
  const [port, admin] = (await freePorts(2)) as [number, number];
  const p = startComponent(pkg, [...args, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`]);
  procs.push(p);
  await p.waitFor('started', 30_000);
  return { p, port, admin: `http://127.0.0.1:${admin}` };
}

async function upstream(): Promise<HoldingUpstream> {
  const u = await holdingUpstream();
  upstreams.push(u);
  return u;
}

/** Every HTTP/1.1 response in a byte stream (Content-Length or chunked framing). */
function responses(raw: string): { status: number; headers: string; body: string }[] {
  const out: { status: number; headers: string; body: string }[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    rest = rest.slice(end + 4);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let body = '';
    if (length) {
      body = rest.slice(0, Number(length[1]));
      rest = rest.slice(Number(length[1]));
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      for (;;) {
        const line = rest.indexOf('\r\n');
        const size = Number.parseInt(rest.slice(0, line), 16);
        rest = rest.slice(line + 2);
        if (size === 0) {
          rest = rest.slice(2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    }
    out.push({ status: Number(head.slice(9, 12)), headers: head.toLowerCase(), body });
  }
  return out;
}

describe('SIGTERM with pipelined requests in flight', () => {
  it('rate-limiter: both pipelined requests are answered, the connection closes after, exit 0', async () => {
    const u = await upstream();
    const { p, port, admin } = await proxy('rate-limiter', [
      '--upstream',
      u.url,
      '--rate',
      '100/s',
      '--burst',
      '50',
      '--drain-timeout',
      '20s',
    ]);
    const sock = connect(port, '127.0.0.1');
    await once(sock, 'connect');
    let raw = '';
    sock.on('data', (d: Buffer) => (raw += d.toString()));
    const ended = once(sock, 'end');
    // two requests in one write: the second waits behind the first, which the upstream holds
    sock.write('GET /hold HTTP/1.1\r\nHost: app\r\n\r\nGET /after HTTP/1.1\r\nHost: app\r\n\r\n');
    await u.arrived(1);
    p.child.kill('SIGTERM');
    await p.waitFor('"msg":"draining"');
    expect((await fetch(`${admin}/readyz`)).status).toBe(503);
    u.release();
    await ended;
    const answers = responses(raw);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [200, 'released after the hold\n'],
      [200, 'answered /after\n'],
    ]);
    expect(answers[1]!.headers).toContain('\r\nconnection: close');
    expect(await p.exited).toBe(0);
  });
});

describe('a request that outlasts --drain-timeout is cut off at the deadline; exit 0', () => {
  const cases: [string, (upstream: string) => string[]][] = [
    ['rate-limiter', (up) => ['--upstream', up, '--rate', '100/s']],
    ['experiment-splitter', (up) => ['--control', up, '--experiment', up, '--percent', '10']],
    ['demo-app', () => []],
  ];
  for (const [pkg, args] of cases) {
    it(pkg, async () => {
      const u = await upstream();
      const { p, port } = await proxy(pkg, [...args(u.url), '--drain-timeout', '1500ms']);
      // demo-app is its own upstream: its /slow answers after 60 s
      const path = pkg === 'demo-app' ? '/slow?ms=60000' : '/hold';
      const answer = new Promise<string>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path }, (res) => {
          res.resume();
          res.on('end', () => resolve(`answered ${res.statusCode}`));
          res.on('error', (e) => resolve(`cut: ${e.message}`));
        });
        req.on('error', (e) => resolve(`cut: ${e.message}`));
        req.end();
      });
      if (pkg !== 'demo-app') await u.arrived(1);
      else await p.waitFor('started');
      const t0 = performance.now();
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      const took = performance.now() - t0;
      expect(await answer).toMatch(/^cut: /);
      // the drain waited for the request until the deadline, not longer (exit and teardown aside)
      expect(took).toBeGreaterThanOrEqual(1400);
      expect(took).toBeLessThan(1500 + 5000);
      expect(p.stdout()).toContain('"msg":"drained; exiting"');
    });
  }

  it('tls-sidecar', async () => {
    const u = await upstream();
    const cert = selfSignedCert();
    const { p, port } = await proxy('tls-sidecar', [
      '--cert',
      cert.cert,
      '--key',
      cert.key,
      '--upstream',
      u.url,
      '--drain-timeout',
      '1500ms',
    ]);
    const { request: httpsRequest } = await import('node:https');
    const answer = new Promise<string>((resolve) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path: '/hold', ca: cert.pem, servername: 'localhost' },
        (res) => {
          res.resume();
          res.on('end', () => resolve(`answered ${res.statusCode}`));
          res.on('error', (e) => resolve(`cut: ${e.message}`));
        },
      );
      req.on('error', (e) => resolve(`cut: ${e.message}`));
      req.end();
    });
    await u.arrived(1);
    const t0 = performance.now();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const took = performance.now() - t0;
    expect(await answer).toMatch(/^cut: /);
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(1500 + 5000);
  });
});
