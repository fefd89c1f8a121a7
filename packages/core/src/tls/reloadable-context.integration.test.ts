import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { sleep } from '@dds/test-support';
import { type Issued, makePki, type Pki, secretDir } from '@dds/test-support/tls-sidecar/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DdsError } from '../errors.js';
import type { KeyPair } from './key-pair.js';
import { ReloadableTlsContext } from './reloadable-context.js';
import { defaultTlsPolicy } from './secure-context.js';
import { tlsDirPaths } from './tls-files.js';

let pki: Pki;
let a: Issued;
let b: Issued;
beforeAll(async () => {
  pki = await makePki('core-tls');
  [a, b] = await Promise.all([
    pki.issue('a', { cn: 'a.example', san: 'DNS:a.example' }),
    pki.issue('b', { cn: 'b.example', san: 'DNS:b.example,URI:spiffe://dds/b', rsa: true }),
  ]);
});

const holders: ReloadableTlsContext[] = [];
afterAll(() => {
  for (const h of holders) h.close();
});

const hold = (opts: ConstructorParameters<typeof ReloadableTlsContext>[0]) => {
  const h = new ReloadableTlsContext(opts);
  holders.push(h);
  return h;
};

function expectDdsError(fn: () => unknown, code: string, text: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DdsError);
    expect((e as DdsError).code).toBe(code);
    expect((e as DdsError).message).toContain(text);
    return;
  }
  throw new Error('expected a DdsError');
}

describe('ReloadableTlsContext', () => {
  it('loads a pair and describes the certificate', () => {
    const h = hold({ paths: { cert: b.cert, key: b.key }, policy: defaultTlsPolicy(), watchIntervalMs: 0 });
    expect(h.pair.info.commonName).toBe('b.example');
    expect(h.pair.info.dns).toEqual(['b.example']);
    expect(h.pair.info.uri).toEqual(['spiffe://dds/b']);
    expect(h.pair.info.notAfter.getTime()).toBeGreaterThan(Date.now());
    expect(h.pair.chainLength).toBe(1);
  });

  it('names the missing file', () => {
    const missing = join(pki.dir, 'missing.key');
    expectDdsError(
      () => hold({ paths: { cert: a.cert, key: missing }, policy: defaultTlsPolicy(), watchIntervalMs: 0 }),
      'DDS_TLS_FILE',
      missing,
    );
  });

  it('refuses a key that belongs to another certificate', () => {
    expectDdsError(
      () => hold({ paths: { cert: a.cert, key: b.key }, policy: defaultTlsPolicy(), watchIntervalMs: 0 }),
      'DDS_TLS_MISMATCH',
      b.key,
    );
  });

  it('refuses a certificate file with garbage in the PEM block', () => {
    const bad = join(pki.dir, 'garbage.crt');
    writeFileSync(bad, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    expectDdsError(
      () => hold({ paths: { cert: bad, key: a.key }, policy: defaultTlsPolicy(), watchIntervalMs: 0 }),
      'DDS_TLS_FILE',
      bad,
    );
  });

  it('follows a ..data symlink swap; refuses a bad pair and keeps the old one', async () => {
    const secret = secretDir({ 'tls.crt': a.cert, 'tls.key': a.key });
    const reloaded: KeyPair[] = [];
    const errors: Error[] = [];
    const h = hold({
      paths: tlsDirPaths(secret.dir, false),
      policy: defaultTlsPolicy(),
      watchIntervalMs: 100,
      onReload: (p) => reloaded.push(p),
      onError: (e) => errors.push(e),
    });
    const first = h.context;
    expect(h.pair.info.commonName).toBe('a.example');

    secret.swap({ 'tls.crt': b.cert, 'tls.key': b.key });
    for (let i = 0; i < 60 && reloaded.length === 0; i++) await sleep(50);
    expect(reloaded.map((p) => p.info.commonName)).toEqual(['b.example']);
    expect(h.context).not.toBe(first);

    secret.swap({ 'tls.crt': a.cert, 'tls.key': b.key });
    for (let i = 0; i < 60 && errors.length === 0; i++) await sleep(50);
    expect((errors[0] as DdsError).code).toBe('DDS_TLS_MISMATCH');
    expect(h.pair.info.commonName).toBe('b.example');
  });

  it('its context serves TLS 1.2+ with the configured policy', async () => {
    const h = hold({ paths: { cert: a.cert, key: a.key }, policy: defaultTlsPolicy(), watchIntervalMs: 0 });
    const server = createServer({ ...h.options });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const handshake = (opts: object) =>
      new Promise<string>((resolve) => {
        const s = connect(
          { host: '127.0.0.1', port, ca: pki.ca.pem, servername: 'a.example', ...opts },
          () => {
            resolve(`${s.getProtocol()} ${s.getCipher().name}`);
            s.destroy();
          },
        );
        s.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code}`));
      });
    try {
      expect(await handshake({})).toMatch(/^TLSv1\.3 /);
      expect(await handshake({ maxVersion: 'TLSv1.2' })).toMatch(/^TLSv1\.2 ECDHE-ECDSA-AES128-GCM-SHA256/);
      expect(
        await handshake({ maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      ).toMatch(/^error /);
    } finally {
      server.close();
    }
  });
});
