/** The config fields the quick flags set (the file's checks: list aside). */
export interface QuickFlags {
  mysql?: string | undefined;
  postgres?: string | undefined;
  redis?: string | undefined;
  query: string;
  mysqlPasswordFile?: string | undefined;
  postgresPasswordFile?: string | undefined;
  redisPasswordFile?: string | undefined;
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
  const db = (type: 'mysql' | 'postgres' | 'redis', url?: string, file?: string, extra = {}) => {
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
  db('redis', c.redis, c.redisPasswordFile, { replicaLink: c.redisReplicaLink });
  if (c.memcached) out.push({ name: 'memcached', type: 'memcached', address: c.memcached });
  const numbered = (type: string, i: number) => (i === 0 ? type : `${type}-${i + 1}`);
  for (const [i, url] of c.http.entries()) out.push({ name: numbered('http', i), type: 'http', url });
  for (const [i, address] of c.tcp.entries()) out.push({ name: numbered('tcp', i), type: 'tcp', address });
  for (const [i, address] of c.grpc.entries()) out.push({ name: numbered('grpc', i), type: 'grpc', address });
  if (c.exec) out.push({ name: 'exec', type: 'exec', command: c.exec });
  return out;
}
