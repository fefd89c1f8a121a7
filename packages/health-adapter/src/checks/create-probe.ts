import type { ResolvedCheck } from './check-spec.js';
import { execProbe } from './exec.js';
import { httpProbe } from './http.js';
import { memcachedProbe } from './memcached.js';
import type { Probe } from './probe.js';
import { tcpProbe } from './tcp.js';

export function createProbe(check: ResolvedCheck): Probe {
  switch (check.type) {
    // the clients of these four (mysql2, pg, @grpc/grpc-js, ioredis) load with the first check that uses them
    case 'mysql':
      return lazyProbe('datastore', async () => (await import('./mysql.js')).mysqlProbe(check));
    case 'postgres':
      return lazyProbe('datastore', async () => (await import('./postgres.js')).postgresProbe(check));
    case 'grpc':
      return lazyProbe('component', async () => (await import('./grpc.js')).grpcProbe(check));
    case 'redis':
      return lazyProbe('datastore', async () => (await import('./redis.js')).redisProbe(check));
    case 'memcached':
      return memcachedProbe(check);
    case 'http':
      return httpProbe(check);
    case 'tcp':
      return tcpProbe(check);
    case 'exec':
      return execProbe(check);
  }
}

/** A probe whose module loads on its first run. */
function lazyProbe(componentType: Probe['componentType'], load: () => Promise<Probe>): Probe {
  let loading: Promise<Probe> | undefined;
  let probe: Probe | undefined;
  let closed = false;
  return {
    componentType,
    async run(signal) {
      loading ??= load();
      probe ??= await loading;
      if (closed) probe.close?.();
      return probe.run(signal);
    },
    close() {
      closed = true;
      probe?.close?.();
    },
  };
}
