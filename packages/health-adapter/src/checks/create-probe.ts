import type { ResolvedCheck } from './check-spec.js';
import { execProbe } from './exec.js';
import { grpcProbe } from './grpc.js';
import { httpProbe } from './http.js';
import { memcachedProbe } from './memcached.js';
import { mysqlProbe } from './mysql.js';
import { postgresProbe } from './postgres.js';
import type { Probe } from './probe.js';
import { redisProbe } from './redis.js';
import { tcpProbe } from './tcp.js';

export function createProbe(check: ResolvedCheck): Probe {
  switch (check.type) {
    case 'mysql':
      return mysqlProbe(check);
    case 'postgres':
      return postgresProbe(check);
    case 'redis':
      return redisProbe(check);
    case 'memcached':
      return memcachedProbe(check);
    case 'http':
      return httpProbe(check);
    case 'tcp':
      return tcpProbe(check);
    case 'grpc':
      return grpcProbe(check);
    case 'exec':
      return execProbe(check);
  }
}
