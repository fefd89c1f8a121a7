import { LATENCY_BUCKETS, METRIC_PREFIX, type Registry } from '@dds/core/metrics';
import type { ServerPool } from '../pool/server-pool.js';
import { type HotKeyLabelMode, nameLabel } from './hot-key-label.js';
import type { HotKeys } from './hot-keys.js';

type Labels = Record<string, string>;
interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** A metric whose values are read from the pools' plain counters at scrape time. */
function metric(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  read: () => Sample[],
): void {
  registry.registerMetric({
    name: `${METRIC_PREFIX}${name}`,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name: `${METRIC_PREFIX}${name}`, help, type, aggregator: 'sum', values: read() }),
    // prom-client calls these on its metrics; ours have no state of their own
    reset: () => {},
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}

/**
 * Per pool and per server metrics. The hot path only bumps plain numbers on the pool and
 * server objects; they are turned into Prometheus samples here, at scrape time.
 */
export function registerPoolMetrics(
  registry: Registry,
  pools: () => readonly ServerPool[],
  hot: () => HotKeys,
  hotLabels: () => HotKeyLabelMode,
): void {
  const perServer = (read: (s: ServerPool['servers'][number]) => number) => () =>
    pools().flatMap((p) =>
      p.allServers().map((s) => ({ value: read(s), labels: { pool: p.name, server: s.spec.name } })),
    );
  const perPool = (read: (p: ServerPool) => number) => () =>
    pools().map((p) => ({ value: read(p), labels: { pool: p.name } }));

  metric(
    registry,
    'shard_requests_total',
    'Requests forwarded to a server.',
    'counter',
    perServer((s) => s.stats.requests),
  );
  metric(
    registry,
    'shard_responses_total',
    'Replies received from a server.',
    'counter',
    perServer((s) => s.stats.responses),
  );
  metric(
    registry,
    'shard_request_bytes_total',
    'Request bytes sent to a server.',
    'counter',
    perServer((s) => s.stats.requestBytes),
  );
  metric(
    registry,
    'shard_response_bytes_total',
    'Reply bytes received from a server.',
    'counter',
    perServer((s) => s.stats.responseBytes),
  );
  metric(
    registry,
    'shard_server_errors_total',
    'Server connection errors.',
    'counter',
    perServer((s) => s.stats.errors),
  );
  metric(
    registry,
    'shard_server_eof_total',
    'Server connections closed by the server.',
    'counter',
    perServer((s) => s.stats.eof),
  );
  metric(
    registry,
    'shard_timeouts_total',
    'Requests that timed out waiting for a server.',
    'counter',
    perServer((s) => s.stats.timeouts),
  );
  metric(
    registry,
    'shard_ejections_total',
    'Times a server was ejected (auto_eject_hosts).',
    'counter',
    perServer((s) => s.stats.ejections),
  );
  metric(
    registry,
    'shard_server_ejected',
    '1 while a server is ejected from the distribution.',
    'gauge',
    perServer((s) => (s.nextRetry > Date.now() ? 1 : 0)),
  );
  metric(
    registry,
    'shard_server_connections',
    'Open connections to a server.',
    'gauge',
    perServer((s) => s.stats.connections),
  );
  metric(
    registry,
    'shard_in_flight_requests',
    'Requests sent and waiting for a reply.',
    'gauge',
    perServer((s) => s.stats.inFlight),
  );
  metric(
    registry,
    'shard_client_connections',
    'Open client connections.',
    'gauge',
    perPool((p) => p.stats.clientConnections),
  );
  metric(
    registry,
    'shard_client_connections_total',
    'Client connections accepted.',
    'counter',
    perPool((p) => p.stats.totalConnections),
  );
  metric(
    registry,
    'shard_clients_rejected_total',
    'Client connections refused by a client limit.',
    'counter',
    perPool((p) => p.stats.rejectedClients),
  );
  metric(
    registry,
    'shard_clients_idle_closed_total',
    'Client connections closed by the idle timeout (--client-idle-timeout).',
    'counter',
    perPool((p) => p.stats.idleClosed),
  );
  metric(
    registry,
    'shard_clients_output_limit_closed_total',
    'Clients closed because their unread replies passed --client-output-limit.',
    'counter',
    perPool((p) => p.stats.outputLimitClosed),
  );
  metric(
    registry,
    'shard_protocol_errors_total',
    'Clients closed for malformed requests or a request over a limit.',
    'counter',
    perPool((p) => p.stats.protocolErrors),
  );
  metric(
    registry,
    'shard_forward_errors_total',
    'Requests the proxy answered with an error itself.',
    'counter',
    perPool((p) => p.stats.forwardError),
  );
  metric(
    registry,
    'shard_fragments_total',
    'Fragments multi-key requests were split into.',
    'counter',
    perPool((p) => p.stats.fragments),
  );
  metric(
    registry,
    'shard_request_duration_seconds',
    'Time from writing a request to a server to its reply.',
    'histogram',
    () =>
      pools().flatMap((p) =>
        p.allServers().flatMap((s) => {
          const labels = { pool: p.name, server: s.spec.name };
          const out: Sample[] = [];
          let acc = 0;
          LATENCY_BUCKETS.forEach((le, i) => {
            acc += s.stats.buckets[i]!;
            out.push({
              value: acc,
              labels: { ...labels, le: String(le) },
              metricName: `${METRIC_PREFIX}shard_request_duration_seconds_bucket`,
            });
          });
          acc += s.stats.buckets[LATENCY_BUCKETS.length]!;
          out.push({
            value: acc,
            labels: { ...labels, le: '+Inf' },
            metricName: `${METRIC_PREFIX}shard_request_duration_seconds_bucket`,
          });
          out.push({
            value: s.stats.latencySum,
            labels,
            metricName: `${METRIC_PREFIX}shard_request_duration_seconds_sum`,
          });
          out.push({
            value: acc,
            labels,
            metricName: `${METRIC_PREFIX}shard_request_duration_seconds_count`,
          });
          return out;
        }),
      ),
  );
  metric(
    registry,
    'shard_hot_key_requests_per_second',
    'Estimated request rate of the hottest keys over the hot-key window (at most --hotkeys-top series; key: see --hotkeys-metric-keys).',
    'gauge',
    () => {
      const mode = hotLabels();
      if (mode === 'off') return [];
      return hot()
        .list()
        .map((k) => ({
          value: k.rate,
          labels: { pool: k.pool, key: mode === 'hash' ? k.hash : nameLabel(k.key) },
        }));
    },
  );
}
