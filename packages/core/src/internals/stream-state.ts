import { FAST_PATHS, probe } from './fast-paths.js';

/**
 * The state a libuv stream handle reports reads and writes in: Node's `streamBaseState`, an
 * Int32Array the C++ side fills before it calls back into JS (bytes read or an error code, and
 * whether the last write went asynchronous). Node's own net code reads it; it is not exported,
 * but Node 20 still hands it out through `process.binding('stream_wrap')` (documentation-only
 * deprecation DEP0111: a warning only under --pending-deprecation). Null when this Node does not
 * offer it in the expected shape: then reads go through Node's onStreamRead and every direct
 * write gets a new request object, as before.
 */
export interface StreamState {
  /** the shared state array */
  readonly state: Int32Array;
  /** index of the byte count (> 0), 0, or a negative errno of the read being reported */
  readonly readBytesOrError: number;
  /** index of the flag set by the last writeBuffer: 1 when a write request was queued in libuv */
  readonly lastWriteWasAsync: number;
  /** index of the error of the last write dispatched to libuv (Node 24), when this Node has one */
  readonly lastWriteErr?: number;
}

function load(): StreamState | null {
  try {
    const binding = (process as unknown as { binding?: (name: string) => unknown }).binding;
    if (typeof binding !== 'function') return null;
    const b = binding.call(process, 'stream_wrap') as {
      streamBaseState?: unknown;
      kReadBytesOrError?: unknown;
      kLastWriteWasAsync?: unknown;
      kLastWriteErr?: unknown;
    } | null;
    if (b === null || typeof b !== 'object') return null;
    const state = b.streamBaseState;
    const rb = b.kReadBytesOrError;
    const wa = b.kLastWriteWasAsync;
    if (!(state instanceof Int32Array) || !isIndex(rb, state) || !isIndex(wa, state) || rb === wa)
      return null;
    const le = b.kLastWriteErr;
    return isIndex(le, state) && le !== rb && le !== wa
      ? { state, readBytesOrError: rb, lastWriteWasAsync: wa, lastWriteErr: le }
      : { state, readBytesOrError: rb, lastWriteWasAsync: wa };
  } catch {
    // process.binding refused (a later Node, a permission model): the plain paths
    return null;
  }
}

function isIndex(v: unknown, a: Int32Array): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < a.length;
}

let found: StreamState | null = null;
const loaded = probe(FAST_PATHS.streamState, () => {
  found = load();
  return found !== null || "process.binding('stream_wrap') offers no stream state in the expected shape";
})
  ? found
  : null;
let current = loaded;

/** The stream state, or null when unavailable or switched off. */
export function streamState(): StreamState | null {
  return current;
}

/** Switches use of the stream state off (or back on, if this Node has it): tests of the fallbacks. */
export function useStreamState(on: boolean): void {
  current = on ? loaded : null;
}
