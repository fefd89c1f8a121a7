import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './services.js';

/**
 * A self-signed certificate for 127.0.0.1 / localhost made by the openssl CLI, for servers that
 * need one in a test (Redis --tls-port, PostgreSQL ssl=on, a gRPC server). The cert is its own CA.
 */
export function selfSignedCert(cn = 'localhost'): {
  dir: string;
  cert: string;
  key: string;
  pem: string;
  keyPem: string;
} {
  const dir = tempDir('cert');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert, key, pem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}
