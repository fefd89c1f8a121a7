import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, selfSignedCert, waitForPort } from '@dds/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema } from './check-spec.js';
import { postgresProbe } from './postgres.js';
import type { CheckFailure, Probe } from './probe.js';

// A real PostgreSQL (Debian's postgresql package) on a loopback port. Root cannot run postgres,
// so initdb and the server run as the postgres system user.
const BIN = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'])
  .toString()
  .trim();
const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());

const pg = (spec: Record<string, unknown>): Probe =>
  postgresProbe({
    ...(checkSchema.parse({ name: 'pg', type: 'postgres', ...spec }) as Parameters<typeof postgresProbe>[0]),
    timeout: 2000,
  });
const failure = async (p: Probe, ms = 3000): Promise<CheckFailure> => {
  try {
    await p.run(AbortSignal.timeout(ms));
  } catch (e) {
    return e as CheckFailure;
  }
  throw new Error('the check passed');
};

describe('PostgreSQL check against a real server', () => {
  let server: ChildProcess;
  let port: number;
  let url: string;
  let caFile: string;
  const dir = mkdtempSync(join(tmpdir(), 'dds-postgres-'));
  const pwfile = join(dir, 'pw');

  beforeAll(async () => {
    chownSync(dir, uid, gid);
    writeFileSync(pwfile, 'pgpass\n');
    chmodSync(pwfile, 0o644);
    const as = { uid, gid, env: { ...process.env, LC_ALL: 'C' } };
    execFileSync(
      `${BIN}/initdb`,
      ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '--no-sync'],
      { ...as, stdio: 'ignore' },
    );
    // TLS: the server's key must belong to postgres and be private
    const cert = selfSignedCert();
    copyFileSync(cert.cert, join(dir, 'server.crt'));
    copyFileSync(cert.key, join(dir, 'server.key'));
    for (const f of ['server.crt', 'server.key']) chownSync(join(dir, f), uid, gid);
    chmodSync(join(dir, 'server.key'), 0o600);
    caFile = cert.cert;
    port = await freePort();
    const settings = {
      listen_addresses: '127.0.0.1',
      fsync: 'off',
      ssl: 'on',
      ssl_cert_file: join(dir, 'server.crt'),
      ssl_key_file: join(dir, 'server.key'),
    };
    server = spawn(
      `${BIN}/postgres`,
      [
        ...['-D', join(dir, 'data'), '-p', String(port), '-k', dir],
        ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      { ...as, stdio: 'ignore' },
    );
    await waitForPort(port);
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }, 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGINT'); // fast shutdown
      await new Promise((r) => server.once('exit', r));
    }
  });

  it('connects with the password from a file and runs the query', async () => {
    const p = pg({ url, passwordFile: pwfile, query: 'SELECT * FROM pg_database' });
    await expect(p.run(AbortSignal.timeout(3000))).resolves.toMatch(/^query returned [3-9] rows$/);
  });

  it('TLS: verified against the CA file; an untrusted certificate is a tls failure', async () => {
    const p = pg({
      url,
      passwordFile: pwfile,
      tls: true,
      tlsCa: caFile,
      query: 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl',
    });
    await expect(p.run(AbortSignal.timeout(3000))).resolves.toBe('query returned 1 row');
    const untrusted = await failure(pg({ url, passwordFile: pwfile, tls: true }));
    expect(untrusted).toMatchObject({
      reason: 'tls',
      message: expect.stringMatching(/^self-signed certificate(;|$)/),
    });
  });

  it('bad credentials and a missing database are auth failures with the SQLSTATE', async () => {
    writeFileSync(join(dir, 'bad'), 'wrong');
    const bad = await failure(pg({ url, passwordFile: join(dir, 'bad') }));
    expect(bad).toMatchObject({ reason: 'auth' });
    expect(bad.message).toBe('28P01: password authentication failed for user "postgres"');
    const noDb = await failure(
      pg({ url: `postgres://postgres@127.0.0.1:${port}/nope`, passwordFile: pwfile }),
    );
    expect(noDb.message).toBe('3D000: database "nope" does not exist');
  });

  it('a failing query is unhealthy; a slow one times out', async () => {
    const div = await failure(pg({ url, passwordFile: pwfile, query: 'SELECT 1/0' }));
    expect(div).toMatchObject({ reason: 'unhealthy', message: '22012: division by zero' });
    const t0 = Date.now();
    const slow = await failure(pg({ url, passwordFile: pwfile, query: 'SELECT pg_sleep(10)' }), 500);
    expect(slow.reason).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('server stopped: a connect failure', async () => {
    server.kill('SIGINT');
    await new Promise((r) => server.once('exit', r));
    expect(await failure(pg({ url, passwordFile: pwfile }))).toMatchObject({ reason: 'connect' });
  });
});
