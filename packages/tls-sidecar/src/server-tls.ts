import type { Socket } from 'node:net';
import type { TLSSocket, TlsOptions, Server as TlsServer } from 'node:tls';
import type { Logger } from '@dds/core/logger';
import { defaultTlsPolicy, type TlsPolicy } from '@dds/core/tls/secure-context';
import { CertificateStore } from './certificate-store.js';
import { type ClientIdentity, type ClientPolicy, clientPolicy, identify } from './client-identity.js';
import type { SidecarConfig } from './config.js';
import { handshakeFailure } from './handshake-failure.js';
import type { ServedCertificate, TlsMetrics } from './sidecar-metrics.js';

/** Per-connection client identity, stored on the TLS socket (read through h2's socket proxy too). */
const kIdentity = Symbol('dds.clientIdentity');
type IdentifiedSocket = Socket & { [kIdentity]?: ClientIdentity };

/** The identity a connection proved, when client authentication is on. */
export const identityOf = (sock: Socket): ClientIdentity | undefined => (sock as IdentifiedSocket)[kIdentity];

/** Fields that cannot change on reload: they shape the listener itself. */
export const TLS_RESTART_FIELDS = ['listen', 'clientAuth', 'sessionTickets', 'handshakeTimeout'] as const;
const CERT_FIELDS = ['cert', 'key', 'tlsDir', 'sniDirs', 'minTlsVersion', 'ciphers', 'clientCa'] as const;

/**
 * The TLS side of a server-mode listener, shared by the HTTP and TCP modes: the certificates
 * (default and SNI, following their files), client-certificate policy and identity, handshake
 * accounting, and what a reload may swap. The listener (node:http2 or node:tls) is the mode's.
 */
export class ServerTls {
  certs: CertificateStore;
  policy: ClientPolicy | undefined;
  private readonly tlsPolicy: TlsPolicy;
  private server: TlsServer | undefined;
  private openConnections = 0;

  constructor(
    config: SidecarConfig,
    private readonly logger: Logger,
    private readonly metrics: () => TlsMetrics,
  ) {
    this.tlsPolicy = defaultTlsPolicy({
      minVersion: config.minTlsVersion,
      ciphers: config.ciphers,
      sessionTickets: config.sessionTickets,
    });
    this.certs = this.makeCerts(config);
    this.policy = config.clientAuth === 'none' ? undefined : clientPolicy(config);
  }

  get connections(): number {
    return this.openConnections;
  }

  get served(): ServedCertificate[] {
    return this.certs.all.map((h) => ({ cert: h.paths.cert, info: h.pair.info }));
  }

  /** Options for tls.createServer / http2.createSecureServer. */
  serverOptions(config: SidecarConfig): TlsOptions {
    return {
      ...this.certs.main.options,
      SNICallback: (name, cb) => this.certs.sniCallback(name, cb),
      requestCert: config.clientAuth !== 'none',
      rejectUnauthorized: false, // enforced in 'secureConnection' (see attach)
      handshakeTimeout: config.handshakeTimeout,
    };
  }

  /**
   * Counts connections and handshakes on `server`, refuses clients without a valid certificate
   * when one is required, and identifies the rest. A verified client outside the allow-list is
   * closed (`denied: 'close'`, TCP) or marked for 403 answers (`'mark'`, HTTP). `accepted` gets
   * every connection that may go on.
   */
  attach(server: TlsServer, denied: 'close' | 'mark', accepted?: (sock: TLSSocket) => void): void {
    this.server = server;
    server.on('connection', (sock: Socket) => {
      this.openConnections++;
      sock.once('close', () => this.openConnections--);
    });
    server.on('secureConnection', (sock: TLSSocket) => {
      const policy = this.policy;
      const metrics = this.metrics();
      if (policy) {
        const id = identify(sock, policy);
        if (id.reason === 'no_certificate' || id.reason === 'unverified') {
          // Refused here rather than by Node's rejectUnauthorized, which closes the socket
          // without any event: this way the failure is logged and counted.
          const reason = id.reason === 'no_certificate' ? 'client_cert_missing' : 'client_cert_invalid';
          metrics.handshakeFailed(reason);
          this.logger.debug(
            { peer: sock.remoteAddress, reason, error: sock.authorizationError },
            'TLS handshake failed',
          );
          sock.destroy();
          return;
        }
        (sock as IdentifiedSocket)[kIdentity] = id;
        if (!id.allowed) {
          metrics.clientDenied.inc({ reason: id.reason ?? 'not_allowed' });
          this.logger.info(
            {
              peer: sock.remoteAddress,
              reason: id.reason,
              subject: id.info?.subject,
              sans: id.info && [...id.info.dns, ...id.info.uri],
            },
            'client certificate refused',
          );
          if (denied === 'close') {
            sock.destroy();
            return;
          }
        }
      }
      metrics.handshake(sock.getProtocol() ?? 'unknown', sock.isSessionReused());
      accepted?.(sock);
    });
    server.on('tlsClientError', (err: Error & { code?: string }, sock: TLSSocket) => {
      const reason = handshakeFailure(err);
      this.metrics().handshakeFailed(reason);
      this.logger.debug({ peer: sock.remoteAddress, reason, error: err.message }, 'TLS handshake failed');
    });
  }

  /** Not ready while the default certificate is outside its validity period. */
  ready(): true | string {
    const { main } = this.certs;
    const info = main.pair.info;
    const now = Date.now();
    if (info.notAfter.getTime() <= now)
      return `certificate ${main.paths.cert} expired at ${info.notAfter.toISOString()}`;
    if (info.notBefore.getTime() > now)
      return `certificate ${main.paths.cert} is not valid before ${info.notBefore.toISOString()}`;
    return true;
  }

  /**
   * Applies certificate and client-policy changes; throws (nothing changed) when new files are
   * unusable. Call after checking TLS_RESTART_FIELDS.
   */
  reload(next: SidecarConfig, prev: SidecarConfig): void {
    const certsChanged = CERT_FIELDS.some((f) => JSON.stringify(next[f]) !== JSON.stringify(prev[f]));
    const old = this.certs;
    if (certsChanged) this.certs = this.makeCerts(next); // throws on bad files: reload refused
    this.policy = next.clientAuth === 'none' ? undefined : clientPolicy(next);
    if (certsChanged) {
      this.server?.setSecureContext(this.certs.main.options);
      old.close();
    }
  }

  close(): void {
    this.certs.close();
  }

  private makeCerts(config: SidecarConfig): CertificateStore {
    const store: CertificateStore = new CertificateStore(
      config,
      { ...this.tlsPolicy, minVersion: config.minTlsVersion, ciphers: config.ciphers },
      {
        reloaded: (holder, pair) => {
          this.metrics().certReloads.inc({ result: 'ok' });
          if (holder === store.main && this.certs === store) this.server?.setSecureContext(holder.options);
          this.logger.info(
            {
              cert: holder.paths.cert,
              subject: pair.info.subject,
              notAfter: pair.info.notAfter,
              sha256: pair.info.sha256,
            },
            'certificate reloaded; new handshakes use it',
          );
        },
        rejected: (holder, err) => {
          this.metrics().certReloads.inc({ result: 'rejected' });
          this.logger.error(
            {
              cert: holder.paths.cert,
              key: holder.paths.key,
              error: err.message,
              code: (err as { code?: string }).code,
            },
            'new certificate refused; the previous one keeps serving',
          );
        },
      },
    );
    return store;
  }
}
