import type { Socket } from 'node:net';
import { Counter, Histogram, METRIC_PREFIX as P, type Registry } from '@dds/core/metrics';

/** How a TCP-mode connection ended. */
export type TcpOutcome =
  /** both sides finished */
  | 'closed'
  /** reset or I/O error on either side */
  | 'error'
  /** idle timeout */
  | 'idle'
  /** the upstream refused or failed before the splice */
  | 'upstream_error'
  | 'upstream_timeout'
  /** client mode: the TLS handshake with the upstream failed */
  | 'upstream_tls_error'
  /** drained at shutdown */
  | 'drained';

const DURATION_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14_400];

/** The plain-text side of a spliced connection, whose counters give the bytes each way. */
interface Live {
  plain: Socket;
  /** true: the plain socket faces the upstream (server mode); false: the app (client mode) */
  upstreamSide: boolean;
  /** bytes of the PROXY header written before the client's bytes */
  header: number;
  toUpstream: number;
  toClient: number;
}

/**
 * Connection-level metrics of the TCP modes. Byte counters are read from the plain-text socket
 * (no work per chunk): open connections are brought up to date on every scrape, closed ones
 * once at their close, so long-lived connections show their traffic as it happens.
 */
export class TcpMetrics {
  private readonly outcomes: Counter<'outcome'>;
  private readonly duration: Histogram;
  private readonly live = new Set<Live>();
  private readonly bytes: Counter<'direction'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.outcomes = new Counter({
      name: `${P}tcp_connections_total`,
      help: 'Proxied TCP connections by how they ended: closed, error, idle, drained, upstream_error, upstream_timeout, upstream_tls_error.',
      labelNames: ['outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: `${P}tcp_connection_duration_seconds`,
      help: 'Lifetime of proxied TCP connections, from accept to close.',
      buckets: DURATION_BUCKETS,
      registers,
    });
    const live = this.live;
    this.bytes = new Counter({
      name: `${P}tcp_bytes_total`,
      help: 'Bytes proxied in TCP mode (payload, after TLS): to_upstream (from clients) and to_client.',
      labelNames: ['direction'],
      registers,
      collect() {
        for (const l of live) account(l, this);
      },
    });
  }

  /** Starts counting a spliced connection's bytes; call the returned function once it is closed. */
  track(plain: Socket, upstreamSide: boolean, header = 0): () => void {
    const l: Live = { plain, upstreamSide, header, toUpstream: 0, toClient: 0 };
    this.live.add(l);
    return () => {
      account(l, this.bytes);
      this.live.delete(l);
    };
  }

  ended(outcome: TcpOutcome, seconds: number): void {
    this.outcomes.inc({ outcome });
    this.duration.observe(seconds);
  }
}

/** Adds what a connection moved since it was last counted. */
function account(l: Live, bytes: Counter<'direction'>): void {
  const toUpstream = (l.upstreamSide ? l.plain.bytesWritten - l.header : l.plain.bytesRead) - l.toUpstream;
  const toClient = (l.upstreamSide ? l.plain.bytesRead : l.plain.bytesWritten) - l.toClient;
  if (toUpstream > 0) bytes.inc({ direction: 'to_upstream' }, toUpstream);
  if (toClient > 0) bytes.inc({ direction: 'to_client' }, toClient);
  l.toUpstream += toUpstream;
  l.toClient += toClient;
}
