import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import * as z from '@dds/core/config/zod';
import { parseCertificate } from '@dds/core/tls/certificate-info';
import { validateKeyPair } from '@dds/core/tls/key-pair';
import { readTlsFile } from '@dds/core/tls/tls-files';

/**
 * A pool's `tls:` block (a dds extension; twemproxy has no TLS): the proxy talks TLS to every
 * server of the pool, as `rediss://` clients do. Keys are snake_case like the rest of
 * nutcracker.yaml.
 */
const zPath = z.string().check(z.minLength(1));

export const poolTlsSchema = z.strictObject({
  /** CA bundle (PEM) that server certificates must chain to; default: Node's bundled roots */
  ca_file: z.optional(zPath),
  /** client certificate and key, for servers that require one (Redis's tls-auth-clients yes) */
  cert_file: z.optional(zPath),
  key_file: z.optional(zPath),
  /** SNI and the name the certificate must carry; default: each server's host */
  server_name: z.optional(zPath),
  /** false: no certificate verification (a test setup only; logged as a warning) */
  verify: z._default(z.boolean(), true),
  min_version: z._default(z.enum(['TLSv1.2', 'TLSv1.3']), 'TLSv1.2'),
});

export type PoolTlsConfig = z.infer<typeof poolTlsSchema>;

/** What a pool's server connections use: one SecureContext shared by every connection. */
export interface PoolTls {
  context: SecureContext;
  serverName: string | undefined;
  verify: boolean;
  /** changes when any file's content changes: connections are then replaced */
  fingerprint: string;
  files: string[];
}

/** The issue with a tls block's files, as [key, message], or null when they are usable. */
export function checkPoolTls(t: PoolTlsConfig): [keyof PoolTlsConfig, string] | null {
  try {
    loadPoolTls(t);
    return null;
  } catch (err) {
    const e = err as Error & { field?: keyof PoolTlsConfig };
    return [e.field ?? 'ca_file', e.message];
  }
}

/** Reads and checks the files (throws an Error with `field` naming the key at fault). */
export function loadPoolTls(t: PoolTlsConfig): PoolTls {
  const at = <T>(field: keyof PoolTlsConfig, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw Object.assign(new Error((err as Error).message), { field });
    }
  };
  if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
    const missing = t.cert_file === undefined ? 'cert_file' : 'key_file';
    throw Object.assign(new Error('cert_file and key_file go together (a client certificate and its key)'), {
      field: missing,
    });
  }
  const ca = t.ca_file === undefined ? undefined : at('ca_file', () => readTlsFile(t.ca_file!, 'CA'));
  if (ca !== undefined) at('ca_file', () => parseCertificate(ca, `CA file ${t.ca_file}`));
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  if (t.cert_file !== undefined && t.key_file !== undefined) {
    cert = at('cert_file', () => readTlsFile(t.cert_file!, 'certificate'));
    key = at('key_file', () => readTlsFile(t.key_file!, 'private key'));
    at('key_file', () =>
      validateKeyPair({ paths: { cert: t.cert_file!, key: t.key_file! }, cert: cert!, key: key! }),
    );
  }
  const context = at('ca_file', () =>
    createSecureContext({ ca, cert, key, minVersion: t.min_version, maxVersion: 'TLSv1.3' }),
  );
  const h = createHash('sha256');
  for (const b of [ca, cert, key]) h.update(b ?? '-');
  h.update(JSON.stringify([t.server_name, t.verify, t.min_version]));
  return {
    context,
    serverName: t.server_name,
    verify: t.verify,
    fingerprint: h.digest('hex'),
    files: [t.ca_file, t.cert_file, t.key_file].filter((f): f is string => f !== undefined),
  };
}

/** SNI for a server: the configured name, else its host unless that is an IP address. */
export function sniFor(tls: PoolTls, host: string): string | undefined {
  return tls.serverName ?? (isIP(host) === 0 ? host : undefined);
}
