import type { RedisSettings } from '@dds/core/redis/redis-settings';

/** The config fields the quick flags set, --redis* as every component names them. */
export interface QuickFlags extends RedisSettings {
  mysql?: string | undefined;
  postgres?: string | undefined;
  query: string;
  mysqlPasswordFile?: string | undefined;
  postgresPasswordFile?: string | undefined;
  redisReplicaLink: boolean;
  memcached?: string | undefined;
  http: readonly string[];
  tcp: readonly string[];
  grpc: readonly string[];
  exec?: string | undefined;
}

/**
 * One critical check per quick flag, named after its type (`http-2`, ... when a list flag is
 * repeated). Database passwords come from --<db>-password-file or the env DDS_<DB>_PASSWORD.
 */
export function quickChecks(c: QuickFlags): Array<{ name: string; type: string } & Record<string, unknown>> {
  const out: Array<{ name: string; type: string } & Record<string, unknown>> = [];
  const db = (type: 'mysql' | 'postgres', url?: string, file?: string, extra = {}) => {
    if (url)
      out.push({
        name: type,
        type,
        url,
        ...(file ? { passwordFile: file } : { passwordEnv: `DDS_${type.toUpperCase()}_PASSWORD` }),
        ...extra,
      });
  };
  db('mysql', c.mysql, c.mysqlPasswordFile, { query: c.query });
  db('postgres', c.postgres, c.postgresPasswordFile, { query: c.query });
  if (c.redis || c.redisCluster.length || c.redisSentinel.length)
    out.push({
      name: 'redis',
      type: 'redis',
      ...(c.redis ? { url: c.redis } : {}),
      cluster: c.redisCluster,
      sentinels: c.redisSentinel,
      sentinelMaster: c.redisSentinelMaster,
      ...(c.redisUsername ? { username: c.redisUsername } : {}),
      // --redis-password also comes from the env DDS_REDIS_PASSWORD
      ...(c.redisPassword
        ? { password: c.redisPassword }
        : c.redisPasswordFile
          ? { passwordFile: c.redisPasswordFile }
          : {}),
      ...(c.redisTlsCaFile ? { tlsCa: c.redisTlsCaFile } : {}),
      ...(c.redisTlsCertFile ? { tlsCert: c.redisTlsCertFile, tlsKey: c.redisTlsKeyFile } : {}),
      tlsInsecure: c.redisTlsSkipVerify,
      replicaLink: c.redisReplicaLink,
    });
  if (c.memcached) out.push({ name: 'memcached', type: 'memcached', address: c.memcached });
  const numbered = (type: string, i: number) => (i === 0 ? type : `${type}-${i + 1}`);
  for (const [i, url] of c.http.entries()) out.push({ name: numbered('http', i), type: 'http', url });
  for (const [i, address] of c.tcp.entries()) out.push({ name: numbered('tcp', i), type: 'tcp', address });
  for (const [i, address] of c.grpc.entries()) out.push({ name: numbered('grpc', i), type: 'grpc', address });
  if (c.exec) out.push({ name: 'exec', type: 'exec', command: c.exec });
  return out;
}
