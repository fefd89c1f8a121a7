import { LATENCY_BUCKETS } from '@dds/core/metrics';

/** Plain counters per server, read by the metrics collector and the twemproxy stats port. */
export class ServerStats {
  requests = 0;
  requestBytes = 0;
  responses = 0;
  responseBytes = 0;
  /** connection errors (twemproxy server_err) */
  errors = 0;
  /** the server closed a connection (server_eof) */
  eof = 0;
  timeouts = 0;
  ejections = 0;
  /** ms epoch of the last ejection (twemproxy server_ejected_at, in µs there) */
  ejectedAt = 0;
  connections = 0;
  /** requests waiting for a reply */
  inFlight = 0;
  /** latency histogram: counts per LATENCY_BUCKETS bucket (+Inf last), sum in seconds */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    this.buckets[i] = this.buckets[i]! + 1;
    this.latencySum += seconds;
  }
}

/** Counters per pool (twemproxy's pool-level stats). */
export class PoolStats {
  clientConnections = 0;
  totalConnections = 0;
  clientEof = 0;
  clientErr = 0;
  /** requests the proxy answered with an error itself (dead shard, unsupported command...) */
  forwardError = 0;
  fragments = 0;
  serverEjects = 0;
  rejectedClients = 0;
  protocolErrors = 0;
  /** clients closed by the idle timeout */
  idleClosed = 0;
  /** clients closed for not reading replies past --client-output-limit */
  outputLimitClosed = 0;
}
