// The Node ceiling for an HTTP proxy on this machine: one Node process piping raw bytes between
// each client connection and its own upstream connection, with no HTTP parsing at all (and, for
// TLS, only the TLS termination). Nothing that proxies HTTP in one Node process can beat it;
// benchmarks report it as a reference beside the peer (see /work/shared/PERFORMANCE.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, proc, waitPort } from './processes.mjs';

const SELF = fileURLToPath(import.meta.url);

/** A bench target `start` for the pipe to 127.0.0.1:upstreamPort (TLS if cert/key are given). */
export function nodePipeTarget(upstreamPort, tls) {
  return async () => {
    const port = await freePort();
    const args = [SELF, String(port), String(upstreamPort)];
    if (tls) args.push(tls.cert, tls.key);
    const p = proc(process.execPath, args, 'SIGKILL');
    await waitPort(port);
    return { ...p, port };
  };
}

async function pipeMain([port, upstreamPort, cert, key]) {
  const net = await import('node:net');
  const tls = await import('node:tls');
  const onClient = (client) => {
    const up = net.connect(Number(upstreamPort), '127.0.0.1');
    up.setNoDelay(true);
    client.pipe(up).pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  };
  const server = cert
    ? tls.createServer(
        { cert: readFileSync(cert), key: readFileSync(key), ALPNProtocols: ['http/1.1'] },
        onClient,
      )
    : net.createServer(onClient);
  server.on('connection', (s) => s.setNoDelay(true));
  server.listen(Number(port), '127.0.0.1');
}

if (process.argv[1] === SELF) await pipeMain(process.argv.slice(2));
