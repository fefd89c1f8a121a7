import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { type Proc, run, start, waitForPort } from './process.js';

export interface Service {
  port: number;
  proc: Proc;
  dir: string;
  stop(): Promise<void>;
}

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `dds-${prefix}-`));

async function service(proc: Proc, port: number, dir: string): Promise<Service> {
  try {
    await waitForPort(port);
  } catch (e) {
    proc.child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${proc.stdout()}\n${proc.stderr()}`);
  }
  return {
    port,
    proc,
    dir,
    async stop() {
      await proc.kill('SIGTERM');
    },
  };
}

/**
 * A throw-away redis-server on a free loopback port, no persistence. `tls.port: 0` turns the
 * plain port off; the service is then ready (and `port` is) when `tls.readyPort` listens.
 */
export async function startRedis(
  extra: string[] = [],
  port?: number,
  tls?: { port: 0; readyPort: number },
): Promise<Service> {
  const p = port ?? (await freePort());
  const dir = tempDir('redis');
  const proc = start('redis-server', [
    '--port',
    String(tls ? 0 : p),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...extra,
  ]);
  return service(proc, tls ? tls.readyPort : p, dir);
}

/** A throw-away memcached on a free loopback port. */
export async function startMemcached(extra: string[] = [], port?: number): Promise<Service> {
  const p = port ?? (await freePort());
  const proc = start('memcached', [
    '-l',
    '127.0.0.1',
    '-p',
    String(p),
    '-U',
    '0',
    '-u',
    'root',
    '-m',
    '64',
    ...extra,
  ]);
  return service(proc, p, tempDir('memcached'));
}

/** nginx in the foreground with the given http{} body; `PORT` is replaced by the free port. */
export async function startNginx(
  httpBlock: string,
  opts: { workers?: number; port?: number; stream?: string } = {},
): Promise<Service> {
  const port = opts.port ?? (await freePort());
  const dir = tempDir('nginx');
  const conf = `
worker_processes ${opts.workers ?? 1};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${httpBlock.replaceAll('PORT', String(port))}
}
${opts.stream ?? ''}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = start('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  return service(proc, port, dir);
}

/** nutcracker (twemproxy) with the given YAML; returns the proxy; stats on a free port too. */
export async function startNutcracker(
  yaml: string,
  listenPort: number,
): Promise<Service & { statsPort: number }> {
  const dir = tempDir('nutcracker');
  const statsPort = await freePort();
  writeFileSync(join(dir, 'nutcracker.yml'), yaml);
  const proc = start('nutcracker', [
    '-c',
    join(dir, 'nutcracker.yml'),
    '-s',
    String(statsPort),
    '-a',
    '127.0.0.1',
    '-v',
    '4',
    '-o',
    join(dir, 'nutcracker.log'),
  ]);
  const s = await service(proc, listenPort, dir);
  return { ...s, statsPort };
}

/**
 * A throw-away MariaDB server (its own datadir and socket) on a free port, with a user
 * `dds`@`%` / password `ddspass` and a database `dds`.
 */
export async function startMariaDb(port?: number): Promise<Service & { socket: string; url: string }> {
  const p = port ?? (await freePort());
  const dir = tempDir('mariadb');
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const init = await run(
    'mariadb-install-db',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    { timeoutMs: 120_000 },
  );
  if (init.code !== 0) throw new Error(`mariadb-install-db failed: ${init.stderr}`);
  const proc = start('mariadbd', [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--socket=${socket}`,
    `--port=${p}`,
    '--bind-address=127.0.0.1',
    '--user=root',
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    `--pid-file=${join(dir, 'mysqld.pid')}`,
  ]);
  const s = await service(proc, p, dir);
  const sql =
    "CREATE DATABASE IF NOT EXISTS dds; CREATE USER IF NOT EXISTS 'dds'@'%' IDENTIFIED BY 'ddspass'; CREATE USER IF NOT EXISTS 'dds'@'localhost' IDENTIFIED BY 'ddspass'; GRANT ALL ON *.* TO 'dds'@'%'; GRANT ALL ON *.* TO 'dds'@'localhost'; FLUSH PRIVILEGES;";
  const r = await run('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-e', sql]);
  if (r.code !== 0) throw new Error(`mariadb setup failed: ${r.stderr}`);
  return { ...s, socket, url: `mysql://dds:ddspass@127.0.0.1:${p}/dds` };
}

/**
 * HAProxy in the foreground with the given proxies (frontends, backends ...); `PORT` is replaced
 * by the free port. One thread, as the benchmarks' peers run.
 */
export async function startHaproxy(proxies: string, opts: { port?: number } = {}): Promise<Service> {
  const port = opts.port ?? (await freePort());
  const dir = tempDir('haproxy');
  const conf = `global
  nbthread 1
  maxconn 4096
defaults
  timeout connect 5s
  timeout client 30s
  timeout server 30s
${proxies.replaceAll('PORT', String(port))}
`;
  writeFileSync(join(dir, 'haproxy.cfg'), conf);
  const proc = start('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')]);
  return service(proc, port, dir);
}
