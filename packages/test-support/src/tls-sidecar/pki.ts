import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, tempDir } from '../index.js';

/** A certificate and key written by openssl into a temp dir. */
export interface Issued {
  cert: string;
  key: string;
  /** PEM text of the certificate */
  pem: string;
}

export interface Pki {
  dir: string;
  ca: Issued;
  /** issues a certificate signed by this CA (or self-signed with `selfSigned`) */
  issue(
    name: string,
    opts: {
      cn: string;
      san?: string;
      client?: boolean;
      days?: number;
      rsa?: boolean;
      /** an intermediate CA (may sign further certificates via `issuer`) */
      intermediate?: boolean;
      /** signs with this certificate instead of the root */
      issuer?: Issued;
    },
  ): Promise<Issued>;
}

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

async function newKey(path: string, rsa = false): Promise<void> {
  await openssl(
    rsa
      ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path]
      : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path],
  );
}

/** A throw-away CA in a temp dir; certificates are generated with the openssl CLI. */
export async function makePki(label = 'pki'): Promise<Pki> {
  const dir = tempDir(label);
  const ca: Issued = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key'), pem: '' };
  await newKey(ca.key);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    ca.key,
    '-out',
    ca.cert,
    '-days',
    '3',
    '-subj',
    `/O=dds test/CN=${label} CA`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  ca.pem = readFileSync(ca.cert, 'utf8');
  return {
    dir,
    ca,
    async issue(name, opts) {
      const key = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const cert = join(dir, `${name}.crt`);
      const ext = join(dir, `${name}.ext`);
      await newKey(key, opts.rsa);
      await openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/O=dds test/CN=${opts.cn}`]);
      writeFileSync(
        ext,
        (opts.intermediate
          ? ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign']
          : [
              'basicConstraints=CA:FALSE',
              `extendedKeyUsage=${opts.client ? 'clientAuth' : 'serverAuth'}`,
              ...(opts.san ? [`subjectAltName=${opts.san}`] : []),
            ]
        ).join('\n'),
      );
      await openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        (opts.issuer ?? ca).cert,
        '-CAkey',
        (opts.issuer ?? ca).key,
        // a random serial per certificate: -CAcreateserial's serial file races between parallel issues
        '-set_serial',
        `0x${randomBytes(16).toString('hex')}`,
        '-out',
        cert,
        '-days',
        String(opts.days ?? 2),
        '-extfile',
        ext,
      ]);
      return { cert, key, pem: readFileSync(cert, 'utf8') };
    },
  };
}

/**
 * A directory laid out like a Kubernetes Secret volume: tls.crt -> ..data/tls.crt,
 * ..data -> ..<timestamp>/. `swap` publishes new contents the way the kubelet does: write a new
 * timestamped dir, then atomically rename a new `..data` symlink over the old one.
 */
export function secretDir(files: Record<string, string>): {
  dir: string;
  swap(files: Record<string, string>): void;
} {
  const dir = tempDir('secret');
  let gen = 0;
  const publish = (contents: Record<string, string>) => {
    const ts = join(dir, `..gen_${++gen}`);
    mkdirSync(ts);
    for (const [name, src] of Object.entries(contents)) writeFileSync(join(ts, name), readFileSync(src));
    symlinkSync(`..gen_${gen}`, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  publish(files);
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  return { dir, swap: publish };
}
