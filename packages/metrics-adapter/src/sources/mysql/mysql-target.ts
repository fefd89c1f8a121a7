export interface MysqlTarget {
  host: string;
  port: number;
  user?: string;
  password?: string;
  tls: boolean;
}

/**
 * `mysql://user[:password]@host[:port][?tls=true]` or, as mysqld_exporter's /probe takes it,
 * a bare `host:port` (the user and password then come from the configured DSN).
 */
export function parseMysqlTarget(input: string): MysqlTarget | string {
  const s = input.trim();
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(s) ? s : `mysql://${s}`);
  } catch {
    return `invalid MySQL address "${input}" (expected mysql://user@host:port or host:port)`;
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:')
    return `unsupported scheme "${u.protocol}" (expected mysql://)`;
  if (!u.hostname) return `missing host in "${input}"`;
  const t: MysqlTarget = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 3306,
    tls: ['true', '1', 'required'].includes(u.searchParams.get('tls') ?? ''),
  };
  if (u.username) t.user = decodeURIComponent(u.username);
  if (u.password) t.password = decodeURIComponent(u.password);
  return t;
}
