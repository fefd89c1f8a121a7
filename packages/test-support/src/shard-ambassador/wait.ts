import { readFileSync } from 'node:fs';
import type { Ambassador } from './ambassador.js';

/** Polls until check() holds (an event seen from outside the process); fails after timeoutMs. Test-only. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The value of one sample of the ambassador's admin /metrics (`name{labels}`); NaN when no such
 * sample is exported, so an assertion of 0 cannot pass on a misspelled or missing series.
 */
export async function metric(amb: Ambassador, sample: string): Promise<number> {
  const text = await (await fetch(`${amb.admin}/metrics`)).text();
  for (const line of text.split('\n')) if (line.startsWith(`${sample} `)) return Number(line.split(' ')[1]);
  return Number.NaN;
}

/** VmRSS of a process, bytes. */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}

/** CPU time (user + system) a process has used, seconds. */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
