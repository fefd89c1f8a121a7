import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { afterEach, expect } from 'vitest';
import { type Proc, sleep } from '../index.js';

// What the log-adapter's process tests share: cleanup of the processes and servers a test
// started, waiting for a condition (never a fixed sleep), reading one metric, and the exact count
// check every delivery test ends with.

/** Registers an afterEach that kills the processes and closes the servers handed to it. */
export function useCleanup(): { proc(p: Proc): Proc; server(s: Server): Server } {
  let procs: Proc[] = [];
  let servers: Server[] = [];
  afterEach(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    for (const s of servers) await new Promise((r) => s.close(r));
    procs = [];
    servers = [];
  });
  return {
    proc: (p) => {
      procs.push(p);
      return p;
    },
    server: (s) => {
      servers.push(s);
      return s;
    },
  };
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * One sample of the adapter's /metrics: `name{labels}` exactly, or a bare family name summed over
 * its series. NaN when no such series is exported (or the admin port is not up), so an assertion
 * of 0 cannot pass on a misspelled or missing metric.
 */
export async function metric(admin: number, name: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${admin}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  const series = text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || (!name.includes('{') && l.startsWith(`${name}{`)));
  if (series.length === 0) return Number.NaN;
  return series.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** `got` holds every number of 0..n-1 exactly once. */
export function exactlyOnce(got: number[], n: number): void {
  const sorted = [...got].sort((a, b) => a - b);
  expect(sorted.length).toBe(n);
  expect(new Set(sorted).size).toBe(n);
  expect(sorted[0]).toBe(0);
  expect(sorted[n - 1]).toBe(n - 1);
}

/** Lines of `logFile` before the offset saved for it in a position file (what a restart will not resend). */
export function linesBeforeSaved(positionFile: string, logFile: string): number {
  const saved = JSON.parse(readFileSync(positionFile, 'utf8')) as {
    files: Record<string, { offset: number }>;
  };
  const offset = Object.values(saved.files)[0]?.offset ?? 0;
  return readFileSync(logFile).subarray(0, offset).toString().split('\n').length - 1;
}
