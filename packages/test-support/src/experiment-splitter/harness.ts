// Shared by this package's integration tests: real demo-app backends and a real splitter
// process on free loopback ports, plus a small HTTP client that can send any header.
import { request } from 'undici';
import {
  bucketOf,
  bucketTable,
  saltSeed,
  weightToBuckets,
} from '../../../experiment-splitter/src/bucketing.js';
import { freePort, type Proc, startComponent, waitForHttp, waitForPort } from '../index.js';

export interface Running {
  url: string;
  port: number;
  proc: Proc;
}

const procs = new Set<Proc>();

/** Kills everything this file started (call in afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...procs].map((p) => p.kill('SIGKILL')));
  procs.clear();
}

export async function demoApp(name: string, extra: string[] = []): Promise<Running> {
  const port = await freePort();
  const proc = startComponent('demo-app', [
    '--listen',
    `127.0.0.1:${port}`,
    '--admin',
    'off',
    '--name',
    name,
    ...extra,
  ]);
  procs.add(proc);
  await waitForPort(port);
  return { url: `http://127.0.0.1:${port}`, port, proc };
}

export async function splitter(args: string[]): Promise<Running & { admin: string }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const proc = startComponent('experiment-splitter', [
    '--listen',
    `127.0.0.1:${port}`,
    '--admin',
    `127.0.0.1:${adminPort}`,
    ...args,
  ]);
  procs.add(proc);
  await proc.waitFor('started', 15_000);
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitForHttp(`${admin}/readyz`);
  return { url: `http://127.0.0.1:${port}`, port, proc, admin };
}

/** Quick mode in front of two running backends, plus any extra flags. */
export const quickSplitter = (control: Running, experiment: Running, extra: string[] = []) =>
  splitter(['--control', control.url, '--experiment', experiment.url, ...extra]);

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** x-served-by of the demo-app that answered */
  servedBy: string | undefined;
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await request(url, { headers });
  const body = await r.body.text();
  const servedBy = r.headers['x-served-by'];
  return { status: r.statusCode, headers: r.headers, body, servedBy: servedBy as string | undefined };
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** The variant name a two-variant experiment must give `key`, computed independently of the proxy. */
export function expectedVariant(key: string, salt: string, percent: number): 'control' | 'experiment' {
  const table = bucketTable([0, weightToBuckets(percent)], 0);
  return table[bucketOf(key, saltSeed(salt))] === 1 ? 'experiment' : 'control';
}

export async function adminJson<T = { experiments: ExperimentView[] }>(
  admin: string,
  path = '/experiments',
): Promise<T> {
  const r = await request(`${admin}${path}`);
  return (await r.body.json()) as T;
}

export interface ExperimentView {
  name: string;
  guard: { tripped: string[] };
  variants: Array<{
    name: string;
    assignedPercent: number;
    tripped: boolean;
    window: { requests: number; errors: number; errorPercent: number; p99ms: number | null };
  }>;
}

export async function metric(admin: string, line: RegExp): Promise<number> {
  const r = await request(`${admin}/metrics`);
  const text = await r.body.text();
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.slice(m.lastIndexOf(' ') + 1)) : Number.NaN;
}
