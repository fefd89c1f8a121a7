import { request as httpsRequest, type RequestOptions } from 'node:https';
import { type PeerCertificate, connect as tlsConnect } from 'node:tls';
import { freePorts, type Proc, startComponent, waitForPort } from '../index.js';

export interface Sidecar {
  port: number;
  admin: number;
  proc: Proc;
  stop(): Promise<void>;
}

/** Starts dds-tls-sidecar on free ports; `args` add to (and may override) listen/admin. */
export async function startSidecar(args: string[]): Promise<Sidecar> {
  const [port, admin] = (await freePorts(2)) as [number, number];
  const proc = startComponent('tls-sidecar', [
    '--listen',
    `127.0.0.1:${port}`,
    '--admin',
    `127.0.0.1:${admin}`,
    '--log-level',
    'debug',
    ...args,
  ]);
  await proc.waitFor(/"msg":"serving /, 30_000);
  await waitForPort(admin);
  return {
    port,
    admin,
    proc,
    async stop() {
      await proc.kill('SIGKILL');
    },
  };
}

/** Starts the demo app (the plain-HTTP upstream). */
export async function startDemo(port: number): Promise<Proc> {
  const proc = startComponent('demo-app', ['--listen', `127.0.0.1:${port}`, '--admin', 'off']);
  await waitForPort(port);
  return proc;
}

export async function metrics(admin: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${admin}/metrics`);
  return r.text();
}

/** Value of one sample, e.g. metric(text, 'dds_tls_handshake_failures_total{reason="not_tls"}'); 0 if absent. */
export function metric(text: string, sample: string): number {
  for (const line of text.split('\n'))
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  return 0;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTPS request with Node's https module. */
export function get(
  port: number,
  path: string,
  opts: RequestOptions & { body?: Buffer | string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', servername: 'localhost', port, path, method: opts.body ? 'POST' : 'GET', ...opts },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The certificate a fresh handshake presents. */
export function peerCertificate(port: number, servername = 'localhost'): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.destroy();
      resolve(c);
    });
    s.on('error', reject);
  });
}

/** Writes raw bytes over TLS and collects everything the server sends until it closes (or timeout). */
export function rawTls(port: number, data: string | Buffer, ca: string, waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = tlsConnect(
      { host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] },
      () => {
        s.write(data);
      },
    );
    const t = setTimeout(() => s.destroy(), waitMs);
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', (e) => (out ? undefined : reject(e)));
  });
}
