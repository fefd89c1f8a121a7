// The benchmarks' certificate: one self-signed ECDSA P-256 certificate for localhost and
// 127.0.0.1, the same for every proxy in a run.
import { join } from 'node:path';
import { exec } from './tools.mjs';

export async function selfSignedCert(dir) {
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  await exec('openssl', [
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
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return { cert, key };
}
