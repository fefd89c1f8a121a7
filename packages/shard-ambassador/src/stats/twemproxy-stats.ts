import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import type { ServerPool } from '../pool/server-pool.js';

const started = Date.now();

/**
 * twemproxy's stats document: `{"service":"nutcracker", ..., "<pool>": {pool counters,
 * "<server name>": {server counters}}}`, the shape nutcracker dashboards and exporters read.
 * Ours is live rather than aggregated every --stats-interval.
 */
export function twemproxyStats(pools: readonly ServerPool[], version: string): string {
  let total = 0;
  let current = 0;
  const doc: Record<string, unknown> = {
    service: 'nutcracker',
    source: hostname(),
    version,
    uptime: Math.floor((Date.now() - started) / 1000),
    timestamp: Math.floor(Date.now() / 1000),
  };
  const body: Record<string, unknown> = {};
  for (const pool of pools) {
    const ps = pool.stats;
    total += ps.totalConnections;
    current += ps.clientConnections;
    const p: Record<string, unknown> = {
      client_eof: ps.clientEof,
      client_err: ps.clientErr,
      client_connections: ps.clientConnections,
      server_ejects: ps.serverEjects,
      forward_error: ps.forwardError,
      fragments: ps.fragments,
    };
    for (const s of pool.allServers()) {
      const st = s.stats;
      p[s.spec.name] = {
        server_eof: st.eof,
        server_err: st.errors,
        server_timedout: st.timeouts,
        server_connections: st.connections,
        server_ejected_at: st.ejectedAt * 1000,
        requests: st.requests,
        request_bytes: st.requestBytes,
        responses: st.responses,
        response_bytes: st.responseBytes,
        in_queue: 0,
        in_queue_bytes: 0,
        out_queue: st.inFlight,
        out_queue_bytes: 0,
      };
    }
    body[pool.name] = p;
  }
  return JSON.stringify({ ...doc, total_connections: total, curr_connections: current, ...body });
}

/** The stats port: each connection gets the JSON document, then is closed (like nutcracker). */
export function startStatsServer(
  host: string,
  port: number,
  pools: () => readonly ServerPool[],
  version: string,
): Promise<Server> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.end(twemproxyStats(pools(), version));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
