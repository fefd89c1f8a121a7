// What happens when an error escapes every handler: the process logs it and exits 1 (it does not
// carry on in an unknown state), and under --workers the primary replaces the worker, or gives up
// on a crash loop. The faults are real throws inside a running component's event loop, injected
// by a module preloaded with NODE_OPTIONS=--import (the product has no test hooks for this).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { freePorts, type Proc, startComponent, tempDir, waitForHttp } from '@dds/test-support';
import { afterEach, describe, expect, it } from 'vitest';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

/**
 * A preload that throws from a timer callback (or rejects a promise nobody awaits) when the
 * process gets SIGUSR2, or at once in every cluster worker with CRASH_WORKERS=1; each worker
 * leaves its pid in CRASH_PID_DIR.
 */
const preload = (() => {
  const file = join(tempDir('crash'), 'crash.mjs');
  writeFileSync(
    file,
    `import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
if (cluster.isWorker && process.env.CRASH_PID_DIR) writeFileSync(process.env.CRASH_PID_DIR + '/' + process.pid, '');
const fault = () => {
  if (process.env.CRASH_KIND === 'rejection') Promise.reject(new Error('injected rejection'));
  else setTimeout(() => { throw new Error('injected fault'); }, 0);
};
process.on('SIGUSR2', fault);
if (process.env.CRASH_WORKERS === '1' && cluster.isWorker) setTimeout(fault, 50);
`,
  );
  return file;
})();

async function demo(args: string[], env: Record<string, string> = {}) {
  const [port, admin] = (await freePorts(2)) as [number, number];
  const p = startComponent(
    'demo-app',
    ['--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, ...args],
    { env: { NODE_OPTIONS: `--import=${preload}`, ...env } },
  );
  procs.push(p);
  return { p, url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${admin}` };
}

/** The pid of the process that answered, on a fresh connection each time. */
const answeringPid = (url: string): Promise<number> =>
  new Promise((resolve, reject) => {
    get(`${url}/echo`, { agent: false }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve((JSON.parse(b) as { pid: number }).pid));
    }).on('error', reject);
  });

async function workerPids(url: string, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < 200 && pids.size < n; i++) pids.add(await answeringPid(url));
  return pids;
}

/** Whether a process still runs (a zombie has ended: only its parent's wait is missing). */
const isAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** JSON log lines of a process's stdout. */
const logLines = (p: Proc): Record<string, unknown>[] =>
  p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('an error that escapes every handler', () => {
  it.each([
    ['uncaught exception', 'throw', 'injected fault'],
    ['unhandled rejection', 'rejection', 'injected rejection'],
  ])('%s: logged at fatal with its stack, then the process exits 1', async (kind, crashKind, message) => {
    const d = await demo([], { CRASH_KIND: crashKind });
    await waitForHttp(`${d.adminUrl}/readyz`);
    expect((await fetch(`${d.url}/`)).status).toBe(200);
    d.p.child.kill('SIGUSR2');
    expect(await d.p.exited).toBe(1);
    const fatal = logLines(d.p).find((l) => l.level === 'fatal');
    expect(fatal?.msg).toBe(`${kind}: exiting, the process is in an unknown state`);
    const err = fatal?.err as { message: string; stack: string };
    expect(err.message).toBe(message);
    expect(err.stack).toContain('crash.mjs');
  });
});

describe('--workers', () => {
  it('a worker that crashes is replaced; the other keeps serving and the pool is ready again', async () => {
    const d = await demo(['--workers', '2']);
    await waitForHttp(`${d.adminUrl}/readyz`);
    const before = await workerPids(d.url, 2);
    expect(before.size).toBe(2);
    const [victim, survivor] = [...before] as [number, number];
    process.kill(victim, 'SIGUSR2');
    await d.p.waitFor('worker exited; starting a new one');
    const exited = logLines(d.p).find((l) => l.msg === 'worker exited; starting a new one');
    expect(exited).toMatchObject({ worker: victim, code: 1 });
    expect(isAlive(victim)).toBe(false);
    // the replacement joins: two workers answer again, the survivor and a new one
    await waitForHttp(`${d.adminUrl}/readyz`);
    const after = await workerPids(d.url, 2);
    expect(after.size).toBe(2);
    expect(after.has(survivor)).toBe(true);
    expect(after.has(victim)).toBe(false);
    expect(after.has(d.p.child.pid!)).toBe(false);
    expect(d.p.child.exitCode).toBeNull();
  });

  it('a crash loop gives up: the primary exits 1 and leaves no worker behind', async () => {
    const pidDir = tempDir('crash-pids');
    const d = await demo(['--workers', '2'], { CRASH_WORKERS: '1', CRASH_PID_DIR: pidDir });
    expect(await d.p.exited).toBe(1);
    const lines = logLines(d.p);
    const restarts = lines.filter((l) => l.msg === 'worker exited; starting a new one');
    const fatal = lines.find((l) => l.msg === 'workers keep crashing; giving up');
    expect(fatal).toMatchObject({ level: 'fatal', exits: 6, withinMs: 10_000 });
    // 6 exits: 5 restarted, the 6th ends it
    expect(restarts).toHaveLength(5);
    // every worker that ever started is gone: the 6 that crashed (and the 7th, if it got going)
    const workers = readdirSync(pidDir).map(Number);
    expect(workers.length).toBeGreaterThanOrEqual(6);
    for (const pid of workers) expect(isAlive(pid), `worker ${pid}`).toBe(false);
  });
});
