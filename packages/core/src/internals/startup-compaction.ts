import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FAST_PATHS, probe } from './fast-paths.js';

type Gc = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: 'regular' | 'last-resort';
}) => void;

/** How long after start the compaction waits: past the first probes and connections. */
export const STARTUP_COMPACTION_DELAY_MS = 500;

/**
 * V8's gc(): --expose-gc installs it on contexts created while the flag is on, so one context is
 * made with it on and the flag is turned off again (a process started with --expose-gc has it).
 */
function exposeGc(): Gc | string {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as Gc;
  setFlagsFromString('--expose-gc');
  let gc: unknown;
  try {
    gc = runInNewContext('gc');
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return typeof gc === 'function' ? (gc as Gc) : 'V8 gave the new context no gc()';
}

let gc: Gc | undefined;

/** Whether compaction can run here (probed once, reported at start with the fast paths). */
function available(): boolean {
  return probe(FAST_PATHS.startupCompaction, () => {
    const found = exposeGc();
    if (typeof found === 'string') return found;
    gc = found;
    return true;
  });
}

/**
 * One full, memory-reducing GC. Start grows V8's young generation: module init, config and
 * listeners survive the scavenges that run while they are made, V8 doubles the semi-spaces, and
 * a quiet sidecar would keep them (and start's garbage) until its memory reducer runs. Measured
 * on the tls-sidecar bundle, idle RSS 66.6 -> 63.2 MB for 11-17 ms of one-time CPU; load grows
 * the young generation again as it needs. A probe like the fast paths': reported at start,
 * switched off by DDS_FAST_PATHS_OFF=startup-compaction. Returns whether it ran.
 */
export function compactHeap(): boolean {
  if (!available() || gc === undefined) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}

/** compactHeap() once, STARTUP_COMPACTION_DELAY_MS from now; probed now, so the start report has it. */
export function compactAfterStart(): void {
  if (available()) setTimeout(compactHeap, STARTUP_COMPACTION_DELAY_MS).unref();
}
