import {
  Counter,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  METRIC_PREFIX as P,
  type Registry,
} from '@dds/core/metrics';
import type { CertificateInfo } from '@dds/core/tls/certificate-info';
import type { HandshakeFailure } from './handshake-failure.js';

type Inc = { inc(v?: number): void };
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** A certificate the sidecar presents, for the expiry gauges. */
export interface ServedCertificate {
  /** the file it comes from */
  cert: string;
  info: CertificateInfo;
}

/**
 * Metrics of every mode: TLS handshakes and their failures, refused peers, certificate reloads
 * and expiry, open connections.
 */
export class TlsMetrics {
  private readonly handshakes: Counter<'version' | 'outcome'>;
  private readonly handshakeFailures: Counter<'reason'>;
  readonly upstreamErrors: Counter<'kind'>;
  readonly clientDenied: Counter<'reason'>;
  readonly certReloads: Counter<'result'>;
  private readonly handshakeChildren = new Map<string, Inc>();

  constructor(
    registry: Registry,
    sources: { connections: () => number; certificates: () => readonly ServedCertificate[] },
  ) {
    const registers = [registry];
    this.handshakes = new Counter({
      name: `${P}tls_handshakes_total`,
      help: 'Completed TLS handshakes by protocol version and outcome (new = full handshake, resumed = session resumption).',
      labelNames: ['version', 'outcome'],
      registers,
    });
    this.handshakeFailures = new Counter({
      name: `${P}tls_handshake_failures_total`,
      help: 'Failed TLS handshakes by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: `${P}upstream_errors_total`,
      help: 'Requests or connections that got no upstream: error (refused, reset; HTTP 502) or timeout (HTTP 504).',
      labelNames: ['kind'],
      registers,
    });
    this.clientDenied = new Counter({
      name: `${P}tls_client_denied_total`,
      help: 'Connections whose client certificate was refused after the handshake (HTTP: answered 403; TCP: closed).',
      labelNames: ['reason'],
      registers,
    });
    this.certReloads = new Counter({
      name: `${P}tls_certificate_reloads_total`,
      help: 'Certificate file changes: applied (ok) or refused (rejected; the previous certificate keeps serving).',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: `${P}active_connections`,
      help: 'Open client connections (TLS, HTTP/1.1 and HTTP/2).',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: `${P}tls_certificate_expiry_timestamp_seconds`,
      help: 'notAfter of each served certificate, as a Unix timestamp (alert before it passes).',
      labelNames: ['cert', 'subject'],
      registers,
      aggregator: 'first', // with --workers every worker reports the same value
      collect() {
        this.reset();
        for (const { cert, info } of sources.certificates())
          this.set({ cert, subject: info.commonName ?? info.subject }, info.notAfter.getTime() / 1000);
      },
    });
    new Gauge({
      name: `${P}tls_certificate_not_before_timestamp_seconds`,
      help: 'notBefore of each served certificate, as a Unix timestamp.',
      labelNames: ['cert', 'subject'],
      registers,
      aggregator: 'first',
      collect() {
        this.reset();
        for (const { cert, info } of sources.certificates())
          this.set({ cert, subject: info.commonName ?? info.subject }, info.notBefore.getTime() / 1000);
      },
    });
  }

  handshake(version: string, resumed: boolean): void {
    const key = resumed ? `${version}+r` : version;
    let c = this.handshakeChildren.get(key);
    if (!c) {
      c = this.handshakes.labels({ version, outcome: resumed ? 'resumed' : 'new' });
      this.handshakeChildren.set(key, c);
    }
    c.inc();
  }

  handshakeFailed(reason: HandshakeFailure): void {
    this.handshakeFailures.inc({ reason });
  }
}

/** The HTTP modes add per-request metrics, resolved once so the hot path is an array lookup. */
export class SidecarMetrics extends TlsMetrics {
  private readonly requestsByClass: Inc[][];
  readonly latency: Histogram;
  readonly clientAborts: Counter;
  readonly clientErrors: Counter<'kind'>;

  constructor(
    registry: Registry,
    sources: { connections: () => number; certificates: () => readonly ServedCertificate[] },
  ) {
    super(registry, sources);
    const registers = [registry];
    const requests = new Counter({
      name: `${P}http_requests_total`,
      help: 'Requests answered, by client protocol and status class.',
      labelNames: ['protocol', 'code'],
      registers,
    });
    this.requestsByClass = ['http/1.1', 'h2'].map((protocol) =>
      CLASSES.map((code) => requests.labels({ protocol, code })),
    );
    this.latency = new Histogram({
      name: `${P}http_request_duration_seconds`,
      help: 'Time from request to the end of the response, through the upstream.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.clientAborts = new Counter({
      name: `${P}http_client_aborts_total`,
      help: 'Requests whose client went away before the response was complete.',
      registers,
    });
    this.clientErrors = new Counter({
      name: `${P}http_client_errors_total`,
      help: 'HTTP/1.1 requests refused before forwarding: header_too_large (431), timeout (408), bad_request (400, incl. smuggling).',
      labelNames: ['kind'],
      registers,
    });
  }

  request(h2: boolean, status: number, seconds: number): void {
    const cls = ((status / 100) | 0) - 1;
    if (cls >= 0 && cls < 5) this.requestsByClass[h2 ? 1 : 0]![cls]!.inc();
    this.latency.observe(seconds);
  }
}
