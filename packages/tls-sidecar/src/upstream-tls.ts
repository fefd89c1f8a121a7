import { existsSync } from 'node:fs';
import type { Logger } from '@dds/core/logger';
import { Counter, METRIC_PREFIX as P, type Registry } from '@dds/core/metrics';
import { ClientTlsContext } from '@dds/core/tls/client-context';
import { INTERMEDIATE_CURVES } from '@dds/core/tls/secure-context';
import { tlsDirPaths } from '@dds/core/tls/tls-files';
import type { SidecarConfig } from './config.js';
import type { TlsMetrics } from './sidecar-metrics.js';

/** Why a TLS connection to the upstream failed, as a small fixed set of label values. */
export type UpstreamTlsFailure =
  | 'refused'
  | 'timeout'
  | 'reset'
  /** the server's chain does not lead to the CA, or is expired */
  | 'server_cert_invalid'
  /** the server's certificate names neither the host nor an allowed SAN */
  | 'server_not_allowed'
  /** the server refused the certificate we presented (or wanted one) */
  | 'client_cert_refused'
  | 'protocol_version'
  | 'other';

const CERT_INVALID = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
]);

/** Maps an error of a TLS client socket (before or just after its handshake). */
export function upstreamTlsFailure(err: Error & { code?: string }): UpstreamTlsFailure {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EHOSTUNREACH') return 'refused';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (CERT_INVALID.has(code)) return 'server_cert_invalid';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'ERR_DDS_SERVER_NOT_ALLOWED')
    return 'server_not_allowed';
  if (
    /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED|CERTIFICATE_EXPIRED|UNSUPPORTED_CERTIFICATE)/.test(
      code,
    )
  )
    return 'client_cert_refused';
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION_NUMBER/.test(code)) return 'protocol_version';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  return 'other';
}

/** TLS handshakes the sidecar makes as a client (client mode, https upstreams). */
export class UpstreamTlsMetrics {
  private readonly handshakes: Counter<'version'>;
  private readonly failures: Counter<'reason'>;

  constructor(registry: Registry) {
    this.handshakes = new Counter({
      name: `${P}tls_upstream_handshakes_total`,
      help: 'TLS handshakes completed with the upstream, by protocol version.',
      labelNames: ['version'],
      registers: [registry],
    });
    this.failures = new Counter({
      name: `${P}tls_upstream_handshake_failures_total`,
      help: 'TLS connections to the upstream that failed: refused, timeout, reset, server_cert_invalid, server_not_allowed, client_cert_refused, protocol_version, other.',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  handshake(version: string | null): void {
    this.handshakes.inc({ version: version ?? 'unknown' });
  }

  failed(reason: UpstreamTlsFailure): void {
    this.failures.inc({ reason });
  }
}

/** Config fields that shape the TLS client: a change builds a new context. */
export const CLIENT_TLS_FIELDS = [
  'mode',
  'cert',
  'key',
  'tlsDir',
  'ca',
  'allowSan',
  'allowCn',
  'upstreamCa',
  'upstreamCert',
  'upstreamKey',
  'upstreamServerName',
  'upstreamAllowSan',
  'minTlsVersion',
  'ciphers',
] as const;

/**
 * The TLS client of client mode (the pod's certificate, the server verified against --ca and
 * --allow-san/--allow-cn) or of an https upstream in server mode (--upstream-*). Files are
 * watched; reloads are counted with the served certificates' and logged.
 */
export function upstreamTlsContext(
  c: SidecarConfig,
  alpn: readonly string[] | undefined,
  logger: Logger,
  metrics: TlsMetrics,
  /** after new files were taken: connections made before still carry the old certificate */
  reloaded?: () => void,
): ClientTlsContext {
  const client = c.mode === 'client';
  const dir = client && c.tlsDir ? tlsDirPaths(c.tlsDir, true) : undefined;
  const ca = client ? c.ca || (dir?.ca && existsSync(dir.ca) ? dir.ca : undefined) : c.upstreamCa;
  const ctx: ClientTlsContext = new ClientTlsContext({
    cert: client ? (dir?.cert ?? c.cert) : c.upstreamCert,
    key: client ? (dir?.key ?? c.key) : c.upstreamKey,
    ca: ca || undefined,
    serverName: c.upstreamServerName || undefined,
    allowNames: client ? [...c.allowSan, ...c.allowCn] : c.upstreamAllowSan,
    policy: { minVersion: c.minTlsVersion, ciphers: c.ciphers, ecdhCurve: INTERMEDIATE_CURVES },
    ...(alpn ? { alpn } : {}),
    watchIntervalMs: c.reloadInterval,
    onReload: (pair) => {
      metrics.certReloads.inc({ result: 'ok' });
      logger.info(
        {
          cert: ctx.paths.cert,
          ca: ctx.paths.ca,
          subject: pair?.info.subject,
          notAfter: pair?.info.notAfter,
        },
        'upstream TLS files reloaded; new connections use them',
      );
      reloaded?.();
    },
    onError: (err) => {
      metrics.certReloads.inc({ result: 'rejected' });
      logger.error(
        { cert: ctx.paths.cert, ca: ctx.paths.ca, error: err.message },
        'new upstream TLS files refused; the previous ones stay in use',
      );
    },
  });
  return ctx;
}
