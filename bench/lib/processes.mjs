// Process and port helpers every benchmark shares: free loopback ports, waiting for a listener,
// and child processes that are stopped (and awaited) at the end of a run.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function waitPort(port, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function waitHttp(url, timeoutMs = 15_000, status = 200) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === status) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${url} did not answer ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A child process with stderr shown; stop() signals it and waits for its exit. `env` adds variables. */
export function proc(cmd, args, signal = 'SIGTERM', env = undefined) {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
