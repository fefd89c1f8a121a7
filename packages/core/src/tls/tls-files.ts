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
    throw new DdsError(
      'DDS_TLS_FILE',
      `cannot read ${what} file ${path}: ${e.code ?? e.message}${e.code === 'EACCES' ? unreadableHint() : ''}`,
      { cause: err },
    );
  }
  if (!buf.includes('-----BEGIN ')) {
    throw new DdsError('DDS_TLS_FILE', `${what} file ${path} holds no PEM block`);
  }
  return buf;
}

/**
 * A key written 0600 by openssl belongs to whoever wrote it; the images run as uid 65532. Say
 * who we are and how a mount makes the file readable (docs/images.md, "Certificates and keys").
 */
function unreadableHint(): string {
  const id = process.getuid ? ` by uid ${process.getuid()} gid ${process.getgid?.()}` : '';
  return ` (not readable${id}: in Kubernetes mount the Secret with defaultMode: 0440 and set securityContext.fsGroup: 65532; with podman or docker, chgrp 65532 and chmod 0640 the file, or run with --userns=keep-id:uid=65532,gid=65532 as its owner; see docs/images.md)`;
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
