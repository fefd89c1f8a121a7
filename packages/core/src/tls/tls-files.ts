import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DdsError } from '../errors.js';

/** Where a certificate, its key and an optional CA bundle live. */
export interface TlsFilePaths {
  cert: string;
  key: string;
  /** CA bundle (PEM), e.g. for verifying client certificates */
  ca?: string | undefined;
}

/** The PEM bytes read from TlsFilePaths. */
export interface TlsMaterial {
  paths: TlsFilePaths;
  cert: Buffer;
  key: Buffer;
  ca?: Buffer | undefined;
}

/**
 * File names in a Kubernetes TLS Secret (type kubernetes.io/tls) mounted as a directory;
 * cert-manager adds ca.crt. `ca.crt` is optional.
 */
export function tlsDirPaths(dir: string, withCa = true): TlsFilePaths {
  return {
    cert: join(dir, 'tls.crt'),
    key: join(dir, 'tls.key'),
    ca: withCa ? join(dir, 'ca.crt') : undefined,
  };
}

/** Reads one file; a missing or unreadable file is a DdsError naming it and what it was for. */
export function readTlsFile(path: string, what: string): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DdsError('DDS_TLS_FILE', `cannot read ${what} file ${path}: ${e.code ?? e.message}`, {
      cause: err,
    });
  }
  if (!buf.includes('-----BEGIN ')) {
    throw new DdsError('DDS_TLS_FILE', `${what} file ${path} holds no PEM block`);
  }
  return buf;
}

/**
 * Reads cert, key and CA. `optionalCa` makes a missing CA file (a TLS Secret without ca.crt)
 * count as "no CA" rather than an error.
 */
export function loadTlsFiles(paths: TlsFilePaths, optionalCa = false): TlsMaterial {
  const cert = readTlsFile(paths.cert, 'certificate');
  const key = readTlsFile(paths.key, 'private key');
  let ca: Buffer | undefined;
  if (paths.ca) {
    try {
      ca = readTlsFile(paths.ca, 'CA');
    } catch (err) {
      if (!(optionalCa && (err as DdsError).message.includes('ENOENT'))) throw err;
    }
  }
  return { paths, cert, key, ca };
}
