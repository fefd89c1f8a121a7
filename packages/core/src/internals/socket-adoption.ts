import { type Server, Socket } from 'node:net';
import { type OnRead, READ_BUFFER } from '../net/read-buffer.js';
import { FAST_PATHS, probe } from './fast-paths.js';

/**
 * Accepted sockets that read into the process's one shared buffer (`onread`: no allocation and
 * no Readable machinery per read). net.Server offers no `onread`, so the accepted socket's
 * native handle (the private `_handle`) moves to a new Socket made with one; the server's
 * 'connection' listeners are handed that socket instead of the empty one it came in (an
 * override of the server's emit). Fallback, when the probe fails or the path is switched off:
 * the accepted socket is used as it is, its 'data' events passed on under the same contract.
 */

type Husk = { _handle: unknown };

/** What a libuv stream handle (TCP or pipe wrap) offers that a Socket built on it uses. */
function streamHandle(h: unknown): true | string {
  if (h === null || typeof h !== 'object') return 'sockets have no native _handle';
  for (const m of ['readStart', 'readStop', 'shutdown', 'close', 'getAsyncId'])
    if (typeof (h as Record<string, unknown>)[m] !== 'function') return `the native handle has no ${m}()`;
  return true;
}

/** Probes with a listening server's own handle (the class accepted handles have), so start can report it. */
export function probeSocketAdoption(server: Server): boolean {
  return probe(FAST_PATHS.socketAdoption, () => streamHandle((server as unknown as Husk)._handle));
}

/**
 * Takes over an accepted socket (from a server created with `pauseOnConnect`) as a socket that
 * reads with `onread` into READ_BUFFER; see READ_BUFFER for how long its bytes are valid.
 */
export function adoptSocket(accepted: Socket, onRead: OnRead, allowHalfOpen: boolean): Socket {
  const husk = accepted as unknown as Husk;
  const handle = husk._handle;
  const movable = streamHandle(handle);
  if (probe(FAST_PATHS.socketAdoption, () => movable) && movable === true) {
    // the husk closes without touching the handle, which also releases its count on the server
    husk._handle = null;
    accepted.destroy();
    return new Socket({
      handle,
      allowHalfOpen,
      onread: { buffer: READ_BUFFER, callback: onRead },
    } as unknown as ConstructorParameters<typeof Socket>[0]);
  }
  accepted.on('data', (chunk: Buffer) => onRead(chunk.length, chunk));
  accepted.resume();
  return accepted;
}

/**
 * Makes `server` hand its 'connection' listeners (drain tracking, connection limits) the socket
 * `take` returns for each accepted one, never the one it came in.
 */
export function replaceAcceptedSockets(server: Server, take: (accepted: Socket) => Socket): void {
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  type Emit = (event: string | symbol, ...args: any[]) => boolean;
  const emit = server.emit as Emit;
  (server as { emit: Emit }).emit = function (this: Server, event, ...args) {
    if (event !== 'connection') return emit.call(this, event, ...args);
    return emit.call(this, 'connection', take(args[0] as Socket));
  };
}
