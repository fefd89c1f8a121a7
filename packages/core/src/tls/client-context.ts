import {
  type ConnectionOptions,
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
} from 'node:tls';
import { DdsError } from '../errors.js';
import { FileBacked } from '../reload/file-backed.js';
import { parseSubjectAltName } from './certificate-info.js';
import { type KeyPair, validateKeyPair } from './key-pair.js';
import type { TlsPolicy } from './secure-context.js';
import { readTlsFile } from './tls-files.js';

/** What a TLS client presents and whom it trusts. */
export interface ClientTlsOptions {
  /** the certificate presented to the server (mTLS); both or neither of cert and key */
  cert?: string | undefined;
  key?: string | undefined;
  /** CA bundle the server's chain must lead to; the system roots without it */
  ca?: string | undefined;
  /** SNI and the name checked against the server certificate (default: the host dialled) */
  serverName?: string | undefined;
  /**
   * accepted server identities (SAN: DNS, URI such as spiffe://..., IP, email; or subject CN);
   * when given they replace the host-name check, so a SPIFFE ID without any DNS name works
   */
  allowNames?: readonly string[];
  policy: Pick<TlsPolicy, 'minVersion' | 'ciphers' | 'ecdhCurve'>;
  /** ALPN protocols offered, e.g. ['h2', 'http/1.1'] */
  alpn?: readonly string[];
  /** poll interval besides fs events; 0 disables watching */
  watchIntervalMs?: number;
  onReload?(pair: KeyPair | undefined): void;
  /** changed files were refused; the previous context keeps being used */
  onError?(err: Error): void;
}

interface Generation {
  context: SecureContext;
  pair: KeyPair | undefined;
}

/**
 * The client side of TLS with files that follow their paths: a certificate and key presented
 * to servers (an mTLS client), and the CA bundle servers are verified against. When a file
 * changes (including a Kubernetes Secret's `..data` swap) a new SecureContext is built for the
 * connections opened after it; a pair that does not parse or match is refused and the previous
 * one stays. Server identity is checked against an allow-list of names when one is given.
 */
export class ClientTlsContext {
  private readonly generation: FileBacked<Generation>;
  private readonly allow: ReadonlySet<string>;

  /** Loads the files now; throws DdsError (naming the file) when they are unusable. */
  constructor(private readonly opts: ClientTlsOptions) {
    if (Boolean(opts.cert) !== Boolean(opts.key))
      throw new DdsError('DDS_TLS_FILE', 'a client certificate needs both a certificate and a key file');
    this.allow = new Set(opts.allowNames ?? []);
    this.generation = new FileBacked(() => this.load(), {
      files: [opts.cert, opts.key, opts.ca].filter((f): f is string => Boolean(f)),
      watchIntervalMs: opts.watchIntervalMs,
      onReload: (g) => opts.onReload?.(g.pair),
      onError: opts.onError,
    });
  }

  private get current(): Generation {
    return this.generation.current;
  }

  /** The certificate presented, when there is one. */
  get pair(): KeyPair | undefined {
    return this.current.pair;
  }

  get paths(): { cert?: string | undefined; key?: string | undefined; ca?: string | undefined } {
    return { cert: this.opts.cert, key: this.opts.key, ca: this.opts.ca };
  }

  /** Options for tls.connect to `host` with the current context. */
  connectOptions(host: string): ConnectionOptions {
    const name = this.opts.serverName || host;
    return {
      secureContext: this.current.context,
      // SNI carries host names only, never IP literals (RFC 6066)
      servername: isIpLiteral(name) ? '' : name,
      rejectUnauthorized: true,
      checkServerIdentity: (_host, cert) => this.checkIdentity(name, cert),
      ...(this.opts.alpn ? { ALPNProtocols: [...this.opts.alpn] } : {}),
    };
  }

  /** Re-reads the files; false (and onError) when they are refused. */
  reload(): boolean {
    return this.generation.reload();
  }

  close(): void {
    this.generation.close();
  }

  private checkIdentity(name: string, cert: PeerCertificate): Error | undefined {
    if (this.allow.size === 0) return checkServerIdentity(name, cert);
    const sans = parseSubjectAltName(cert.subjectaltname);
    for (const list of [sans.uri, sans.dns, sans.ip, sans.email])
      for (const v of list) if (this.allow.has(v)) return;
    const cn = cert.subject?.CN;
    if (typeof cn === 'string' && this.allow.has(cn)) return;
    const err = new Error(
      `server certificate (${[...sans.uri, ...sans.dns, ...sans.ip].join(', ') || `CN=${cn ?? ''}`}) is not in the allowed names`,
    ) as Error & { code: string };
    err.code = 'ERR_DDS_SERVER_NOT_ALLOWED';
    return err;
  }

  private load(): Generation {
    const o = this.opts;
    const ca = o.ca ? readTlsFile(o.ca, 'CA') : undefined;
    let pair: KeyPair | undefined;
    if (o.cert && o.key) {
      const cert = readTlsFile(o.cert, 'certificate');
      const key = readTlsFile(o.key, 'private key');
      pair = validateKeyPair({ paths: { cert: o.cert, key: o.key }, cert, key });
    }
    try {
      const context = createSecureContext({
        ...(pair ? { cert: pair.material.cert, key: pair.material.key } : {}),
        ...(ca ? { ca } : {}),
        minVersion: o.policy.minVersion,
        maxVersion: 'TLSv1.3',
        ciphers: o.policy.ciphers,
        ecdhCurve: o.policy.ecdhCurve,
      });
      return { context, pair };
    } catch (err) {
      throw new DdsError(
        'DDS_TLS_FILE',
        `cannot use ${[o.cert, o.key, o.ca].filter(Boolean).join(' / ')}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

function isIpLiteral(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}
