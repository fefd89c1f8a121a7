import { X509Certificate } from 'node:crypto';
import { DdsError } from '../errors.js';

/** What operators and identity headers need to know about a certificate. */
export interface CertificateInfo {
  /** distinguished name as Node prints it: one `KEY=value` per line, most general first */
  subject: string;
  issuer: string;
  commonName: string | undefined;
  dns: string[];
  uri: string[];
  ip: string[];
  email: string[];
  notBefore: Date;
  notAfter: Date;
  serialNumber: string;
  /** SHA-256 of the DER encoding, lower-case hex without colons */
  sha256: string;
}

/** Splits every certificate out of a PEM bundle. */
export function splitPem(pem: Buffer | string): string[] {
  const text = typeof pem === 'string' ? pem : pem.toString('latin1');
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Parses the first certificate of a PEM bundle; throws DdsError naming `source` when it cannot. */
export function parseCertificate(pem: Buffer | string, source: string): X509Certificate {
  const first = splitPem(pem)[0];
  if (!first) throw new DdsError('DDS_TLS_FILE', `${source} holds no PEM certificate`);
  try {
    return new X509Certificate(first);
  } catch (err) {
    throw new DdsError('DDS_TLS_FILE', `${source} is not a valid certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export function certificateInfo(cert: X509Certificate): CertificateInfo {
  const sans = parseSubjectAltName(cert.subjectAltName);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonName: dnField(cert.subject, 'CN'),
    ...sans,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    serialNumber: cert.serialNumber,
    sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** The first value of one attribute (CN, O, OU ...) in a Node-formatted distinguished name. */
export function dnField(dn: string, key: string): string | undefined {
  const prefix = `${key}=`;
  for (const line of dn.split('\n')) if (line.startsWith(prefix)) return line.slice(prefix.length);
  return undefined;
}

/**
 * Parses Node's subjectAltName text (`DNS:a.example, URI:spiffe://x, IP Address:10.0.0.1,
 * email:a@b`). Values that contain commas or quotes are printed JSON-quoted by Node.
 */
export function parseSubjectAltName(text: string | undefined): {
  dns: string[];
  uri: string[];
  ip: string[];
  email: string[];
} {
  const out = { dns: [] as string[], uri: [] as string[], ip: [] as string[], email: [] as string[] };
  if (!text) return out;
  const re = /(DNS|URI|IP Address|email|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === '') break;
    const raw = m[2]!;
    const value = raw.startsWith('"') ? unquote(raw) : raw;
    if (m[1] === 'DNS') out.dns.push(value);
    else if (m[1] === 'URI') out.uri.push(value);
    else if (m[1] === 'IP Address') out.ip.push(value);
    else if (m[1] === 'email') out.email.push(value);
  }
  return out;
}

/** A JSON-quoted SAN value; an unterminated quote (never from Node, but text is text) stays as is. */
function unquote(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw;
  }
}

/**
 * RFC 4514 form of a Node-formatted DN (`CN=x,O=y`, most specific first), as Envoy prints
 * Subject in X-Forwarded-Client-Cert.
 */
export function rfc4514(dn: string): string {
  return dn
    .split('\n')
    .filter((l) => l !== '')
    .reverse()
    .map((l) => {
      const eq = l.indexOf('=');
      const v = l.slice(eq + 1).replace(/([,+"\\<>;])/g, '\\$1');
      return `${l.slice(0, eq)}=${v}`;
    })
    .join(',');
}
