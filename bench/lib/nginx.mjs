// nginx as a benchmark peer or upstream: one foreground process under its own prefix.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { proc, waitPort } from './processes.mjs';

/** A complete nginx.conf around an http{} body; temp paths and logs under `prefix`. */
export function nginxConf(prefix, httpBody, workers = 1) {
  return `worker_processes ${workers};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  ${httpBody}
}
`;
}

/** Starts nginx with `httpBody` under dir/name; resolves once `port` accepts connections. */
export async function startNginx(dir, name, httpBody, port, workers = 1) {
  const prefix = join(dir, name);
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(prefix, httpBody, workers));
  const p = proc('nginx', ['-p', prefix, '-c', conf]);
  try {
    await waitPort(port);
  } catch (e) {
    await p.stop();
    throw e;
  }
  return { ...p, port };
}
