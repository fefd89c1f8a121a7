// Certificate rotation as a Kubernetes Secret update does it (the `..data` symlink swap): an open
// TLS connection is untouched (it keeps serving and keeps the certificate it was given), new
// handshakes get the new certificate, and under --workers every worker rotates.
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { freePorts, type Proc, startComponent, waitForHttp } from '@dds/test-support';
import {
  type HoldingUpstream,
  holdingUpstream,
  oneConnection,
  peerFingerprint,
  pidOfLocalPort,
} from '@dds/test-support/lifecycle';
import { makePki, type Pki, secretDir } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const procs: Proc[] = [];
let upstream: HoldingUpstream;
let pki: Pki;
beforeAll(async () => {
  upstream = await holdingUpstream();
  pki = await makePki('rotation');
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await upstream.close();
});

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

async function sidecar(dir: string, extra: string[] = []) {
  const [port, admin] = (await freePorts(2)) as [number, number];
  const p = startComponent('tls-sidecar', [
    '--tls-dir',
    dir,
    '--upstream',
    upstream.url,
    '--listen',
    `127.0.0.1:${port}`,
    '--admin',
    `127.0.0.1:${admin}`,
    '--reload-interval',
    '200ms',
    ...extra,
  ]);
  procs.push(p);
  // ready: every worker listens (under --workers the primary is up before them)
  await waitForHttp(`http://127.0.0.1:${admin}/readyz`, 200, 30_000);
  return { p, port };
}

const reloadsLogged = (p: Proc) =>
  p.stdout().split('"msg":"certificate reloaded; new handshakes use it"').length - 1;

/** A new connection's certificate fingerprint, and which sidecar process (worker) served it. */
function freshConnection(port: number): Promise<{ fingerprint: string; upstreamPort: number }> {
  return new Promise((resolve, reject) => {
    const seen = upstream.peers.length;
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/', ca: pki.ca.pem, servername: 'localhost', agent: false },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ fingerprint: peerFingerprint(req.socket!), upstreamPort: upstream.peers[seen]! }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('certificate rotation', () => {
  it('leaves an open connection untouched: it keeps serving with the certificate it was given', async () => {
    const first = await pki.issue('first', { cn: 'localhost', san: 'DNS:localhost' });
    const second = await pki.issue('second', { cn: 'localhost', san: 'DNS:localhost' });
    const secret = secretDir({ 'tls.crt': first.cert, 'tls.key': first.key });
    const { p, port } = await sidecar(secret.dir);
    const held = oneConnection(`https://localhost:${port}`, { ca: pki.ca.pem });
    const before = await held.get('/');
    expect(before.status).toBe(200);
    expect(peerFingerprint(before.socket)).toBe(fingerprint(first.pem));

    secret.swap({ 'tls.crt': second.cert, 'tls.key': second.key });
    await p.waitFor('certificate reloaded');
    // new handshakes: the new certificate
    expect((await freshConnection(port)).fingerprint).toBe(fingerprint(second.pem));
    // the connection opened before: still open, still serving, still the old certificate
    const after = await held.get('/');
    expect(after.status).toBe(200);
    expect(after.body).toBe('answered /\n');
    expect(after.socket).toBe(before.socket);
    expect(held.sockets.size).toBe(1);
    expect(held.closed()).toBe(false);
    expect(peerFingerprint(after.socket)).toBe(fingerprint(first.pem));
    held.close();
  });

  it('under --workers: every worker rotates, and new connections on each get the new certificate', async () => {
    const first = await pki.issue('w-first', { cn: 'localhost', san: 'DNS:localhost' });
    const second = await pki.issue('w-second', { cn: 'localhost', san: 'DNS:localhost' });
    const secret = secretDir({ 'tls.crt': first.cert, 'tls.key': first.key });
    const { p, port } = await sidecar(secret.dir, ['--workers', '2']);

    /** New connections until both workers have served one; the certificates they presented. */
    const acrossWorkers = async () => {
      const byWorker = new Map<number, Set<string>>();
      for (let i = 0; i < 60 && byWorker.size < 2; i++) {
        const c = await freshConnection(port);
        const worker = await pidOfLocalPort(c.upstreamPort);
        expect(worker, 'the sidecar process that opened the upstream connection').toBeDefined();
        if (!byWorker.has(worker!)) byWorker.set(worker!, new Set());
        byWorker.get(worker!)!.add(c.fingerprint);
      }
      return byWorker;
    };
    const beforeSwap = await acrossWorkers();
    expect(beforeSwap.size).toBe(2);
    expect([...beforeSwap.values()].map((s) => [...s])).toEqual([
      [fingerprint(first.pem)],
      [fingerprint(first.pem)],
    ]);
    expect([...beforeSwap.keys()]).not.toContain(p.child.pid);

    secret.swap({ 'tls.crt': second.cert, 'tls.key': second.key });
    // each worker watches the Secret and reloads on its own: two reloads, one per worker
    await p.waitFor(/certificate reloaded[\s\S]*certificate reloaded/, 20_000);
    expect(reloadsLogged(p)).toBe(2);
    const pids = new Set(
      p
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"msg":"certificate reloaded'))
        .map((l) => (JSON.parse(l) as { pid: number }).pid),
    );
    expect(pids).toEqual(new Set(beforeSwap.keys()));
    const afterSwap = await acrossWorkers();
    expect(new Set(afterSwap.keys())).toEqual(new Set(beforeSwap.keys()));
    expect([...afterSwap.values()].map((s) => [...s])).toEqual([
      [fingerprint(second.pem)],
      [fingerprint(second.pem)],
    ]);
  });
});
