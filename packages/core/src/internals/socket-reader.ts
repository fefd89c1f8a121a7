import type { Socket } from 'node:net';
import { FAST_PATHS, probe } from './fast-paths.js';
import { streamState } from './stream-state.js';

/** What a net.Socket's libuv handle offers for reading, as Node's net code uses it. */
interface ReadHandle {
  /** called by the handle for every read (this = the handle); Node's is onStreamRead */
  onread: (this: ReadHandle, arrayBuffer?: ArrayBuffer) => unknown;
  reading: boolean;
  readStop(): number;
}

/** Called with `buf` holding `n` new bytes (the socket's onread buffer); false: stop reading. */
export type DirectRead = (n: number, buf: Buffer) => boolean | undefined;

let enabled = probe(FAST_PATHS.directRead, () => streamState() !== null || 'needs the stream state');

/** Turns direct reads off (or back on) for sockets set up from now on: tests, and a switch. */
export function setDirectReads(on: boolean): void {
  enabled = on;
}

/**
 * Lets the socket's libuv handle call `onRead` itself for every read with data, skipping Node's
 * onStreamRead wrapper (timer refresh, destroyed check, buffer-generator check) on the way; EOF
 * and errors still go through onStreamRead, so 'end', half-close and 'error' behave as before,
 * and so do pause()/resume() (they stop and start the handle, which this does not touch).
 *
 * For a socket created with `onread: { buffer, callback }` (or adopted that way, see core's
 * adoptSocket) that has no idle timeout (setTimeout): onStreamRead refreshes that timer on
 * every read and this does not. `buf` must be the socket's onread buffer. Returns false when it
 * cannot (no handle, a Node whose internals differ, switched off): the socket then keeps calling
 * its onread callback through onStreamRead, with the same bytes.
 */
export function readDirect(socket: Socket, buf: Buffer, onRead: DirectRead): boolean {
  const st = streamState();
  if (!enabled || st === null) return false;
  const h = (socket as unknown as { _handle?: unknown })._handle as ReadHandle | null | undefined;
  if (h === null || typeof h !== 'object') return false;
  const plain = h.onread;
  if (typeof plain !== 'function' || typeof h.readStop !== 'function' || typeof h.reading !== 'boolean')
    return false;
  const state = st.state;
  const at = st.readBytesOrError;
  h.onread = function (this: ReadHandle, arrayBuffer?: ArrayBuffer): unknown {
    const n = state[at]!;
    // EOF, errors (and nothing read): Node's own handling
    if (n <= 0) return plain.call(this, arrayBuffer);
    if (onRead(n, buf) === false && !socket.destroyed) {
      // as onStreamRead does when its callback returns false
      this.reading = false;
      const err = this.readStop();
      if (err) socket.destroy(new Error(`read stop failed: ${err}`));
    }
    return undefined;
  };
  // a Node that does not store the function as given (onread is an accessor on the handle)
  if (h.onread === plain) return false;
  return true;
}
