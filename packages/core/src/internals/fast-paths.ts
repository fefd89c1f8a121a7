/**
 * The fast paths that reach into Node's private internals, each behind a capability probe with
 * a fallback on public APIs. A probe runs once, when its path is first needed; its verdict is
 * kept here so the process can say at start which fast paths are live (runner: one log line;
 * metrics: dds_fast_path_info{path,live}). DDS_FAST_PATHS_OFF turns paths off by name (a comma
 * list, or `all`): the fallbacks then serve, as on a Node whose internals have changed.
 */

/** Every fast path, by the name reports and DDS_FAST_PATHS_OFF use. */
export const FAST_PATHS = {
  /** Node's llhttp binding (`_http_common`): the lean HTTP/1.1 server and the upstream pool parse with it */
  llhttp: 'llhttp',
  /** accepted sockets move their native handle to a socket that reads into one shared buffer (`_handle`) */
  socketAdoption: 'socket-adoption',
  /** libuv's stream state array, from `process.binding('stream_wrap')`: what the two below read */
  streamState: 'stream-state',
  /** a socket's handle calls the reader itself (its `_handle.onread`), skipping Node's onStreamRead */
  directRead: 'direct-read',
  /** writes go to the socket's handle (`_handle.writeBuffer`), skipping stream.Writable; learned at the first write */
  directWrite: 'direct-write',
  /** one memory-reducing GC after start, through V8's gc() (`--expose-gc` on for one context) */
  startupCompaction: 'startup-compaction',
} as const;

export type FastPathName = (typeof FAST_PATHS)[keyof typeof FAST_PATHS];

export const FAST_PATHS_ENV = 'DDS_FAST_PATHS_OFF';

export interface FastPathState {
  readonly path: string;
  readonly live: boolean;
  /** why it is not live */
  readonly reason?: string;
}

const known = new Set<string>(Object.values(FAST_PATHS));
const probed = new Map<string, FastPathState>();
let switchedOff: ReadonlySet<string> | undefined;

/** The names DDS_FAST_PATHS_OFF lists (`all`: every path); unknown names are reported by fastPathSwitchError. */
function offList(): ReadonlySet<string> {
  if (switchedOff === undefined) {
    const v = process.env[FAST_PATHS_ENV] ?? '';
    const names = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    switchedOff = new Set(names.includes('all') ? known : names);
  }
  return switchedOff;
}

/** A message naming what is wrong with DDS_FAST_PATHS_OFF, or undefined when it is fine. */
export function fastPathSwitchError(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const bad = (env[FAST_PATHS_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'all' && !known.has(s));
  if (bad.length === 0) return undefined;
  return `${FAST_PATHS_ENV}: unknown fast path "${bad[0]}" (known: all, ${[...known].join(', ')})`;
}

/**
 * Whether a fast path may be used: false when switched off, or when `check` (run once; it
 * returns true, or why the internals are not as expected) fails or throws. Later calls return
 * the first verdict.
 */
export function probe(path: FastPathName, check: () => true | string): boolean {
  const seen = probed.get(path);
  if (seen !== undefined) return seen.live;
  let state: FastPathState;
  if (offList().has(path)) state = { path, live: false, reason: `switched off by ${FAST_PATHS_ENV}` };
  else {
    try {
      const r = check();
      state = r === true ? { path, live: true } : { path, live: false, reason: r };
    } catch (err) {
      state = { path, live: false, reason: (err as Error).message };
    }
  }
  probed.set(path, state);
  return state.live;
}

/** True when DDS_FAST_PATHS_OFF names the path (a probe would say not live without checking). */
export function switchedOffByEnv(path: FastPathName): boolean {
  return offList().has(path);
}

/** The verdicts of the fast paths probed so far, in probe order. */
export function fastPathStates(): readonly FastPathState[] {
  return [...probed.values()];
}

/** The verdicts as one object for a log line: `{ llhttp: true, 'socket-adoption': 'reason' }`. */
export function fastPathSummary(): Record<string, true | string> {
  const out: Record<string, true | string> = {};
  for (const s of probed.values()) out[s.path] = s.live ? true : (s.reason ?? 'not live');
  return out;
}

/** The start report: one log line with the verdicts of the paths probed so far (none: no line). */
export function logFastPaths(logger: { info(obj: object, msg: string): void }): void {
  const fastPaths = fastPathSummary();
  if (Object.keys(fastPaths).length > 0) logger.info({ fastPaths }, 'fast paths (true: live)');
}

/** Forgets every verdict and re-reads DDS_FAST_PATHS_OFF (tests only). */
export function resetFastPaths(): void {
  probed.clear();
  switchedOff = undefined;
}
