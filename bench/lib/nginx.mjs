// nginx as a benchmark peer or upstream: one foreground process under its own prefix.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { proc, waitPort } from './processes.mjs';

/**
 * A complete nginx.conf around an http{} body (and, with `stream`, a stream{} block: Debian's
 * stream module is loaded for it); temp paths and logs under `prefix`.
 */
export function nginxConf(prefix, httpBody, workers = 1, stream = undefined) {
  return `${stream ? 'load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n' : ''}worker_processes ${workers};
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
${stream ? `stream {\n  ${stream}\n}\n` : ''}`;
}

/** Starts nginx with `httpBody` (and `stream`) under dir/name; resolves once `port` accepts connections. */
export async function startNginx(dir, name, httpBody, port, workers = 1, stream = undefined) {
  const prefix = join(dir, name);
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(prefix, httpBody, workers, stream));
  const p = proc('nginx', ['-p', prefix, '-c', conf]);
  try {
    await waitPort(port);
  } catch (e) {
    await p.stop();
    throw e;
  }
  return { ...p, port };
}
