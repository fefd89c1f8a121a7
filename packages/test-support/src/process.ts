import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Path of a component's built entry point, e.g. bin('tls-sidecar'). */
export const bin = (pkg: string): string => resolve(ROOT, 'packages', pkg, 'dist/main.js');

export interface Proc {
  child: ChildProcess;
  /** everything written to stdout so far */
  stdout(): string;
  stderr(): string;
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string>;
  /** waits until stdout+stderr contains text (or matches a regexp) */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts a process and collects its output; killed with the test process at the latest. */
export function start(
  cmd: string,
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; stdin?: boolean } = {},
): Proc {
  const child = spawn(cmd, args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd ?? ROOT,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters) w();
  });
  const exited = new Promise<number | string>((res) => {
    child.on('exit', (code, sig) => {
      running.delete(child);
      res(code ?? sig ?? -1);
      for (const w of waiters) w();
    });
  });
  const proc: Proc = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      const test = () =>
        typeof pattern === 'string' ? (out + err).includes(pattern) : pattern.test(out + err);
      if (test()) return Promise.resolve();
      return new Promise((res, rej) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          rej(new Error(`timed out waiting for ${pattern}; output:\n${out}\n${err}`));
        }, timeoutMs);
        const check = () => {
          if (test()) {
            clearTimeout(timer);
            waiters.delete(check);
            res();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            rej(
              new Error(
                `process exited (${child.exitCode ?? child.signalCode}) before ${pattern}; output:\n${out}\n${err}`,
              ),
            );
          }
        };
        waiters.add(check);
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return proc;
}

/** Runs a built component: startNode('tls-sidecar', ['--listen', ...]). */
export function startComponent(
  pkg: string,
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
): Proc {
  return start(process.execPath, [bin(pkg), ...args], opts);
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd ?? ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {}); // EPIPE when the command exits without reading its input
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code: code ?? -1, stdout, stderr };
}

/** Polls until a TCP port accepts connections. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${host}:${port} did not open within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls an HTTP URL until it answers with the wanted status. */
export async function waitForHttp(url: string, status = 200, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === status) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > until)
      throw new Error(`${url} did not answer ${status} within ${timeoutMs}ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `STATUS body` of an HTTP GET, polled every 100 ms until it matches `want` or `timeoutMs` pass;
 * the last answer either way (the caller asserts on it).
 */
export async function answerOf(url: string, want: RegExp, timeoutMs = 15_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await fetch(url);
      last = `${r.status} ${await r.text()}`;
    } catch (e) {
      last = `error ${(e as Error).message}`;
    }
    if (want.test(last) || Date.now() > until) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The URL's `STATUS body` comes to match `want` (polled: checks and scrapes run in the background). */
export async function expectAnswer(url: string, want: RegExp, timeoutMs = 15_000): Promise<void> {
  expect(await answerOf(url, want, timeoutMs)).toMatch(want);
}
