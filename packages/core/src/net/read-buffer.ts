import { Socket } from 'node:net';

/**
 * The one buffer every hot-path socket of the process reads into (`onread`): no allocation and
 * no stream machinery per read. Reads run one at a time on the event loop and each callback is done with the bytes
 * before the next read, so one buffer serves all sockets. The rule that follows: bytes in it are
 * valid only during the read callback; whatever must outlive it is copied.
 */
export const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Called with READ_BUFFER holding `n` new bytes; see READ_BUFFER for how long they are valid. */
export type OnRead = (n: number, buf: Buffer) => void;

/**
 * Takes over an accepted socket (from a server created with `pauseOnConnect`) as a socket that
 * reads with `onread`: net.Server offers no `onread`, so its handle moves to a new Socket. On a
 * Node without the (private) `_handle` the accepted socket is used as is, with 'data' events
 * passed on under the same contract.
 */
export function adoptSocket(accepted: Socket, onRead: OnRead, allowHalfOpen: boolean): Socket {
  const husk = accepted as unknown as { _handle: unknown };
  const handle = husk._handle;
  if (handle === null || typeof handle !== 'object') {
    accepted.on('data', (chunk: Buffer) => onRead(chunk.length, chunk));
    accepted.resume();
    return accepted;
  }
  // the husk closes without touching the handle, which also releases its count on the server
  husk._handle = null;
  accepted.destroy();
  return new Socket({
    handle,
    allowHalfOpen,
    onread: { buffer: READ_BUFFER, callback: onRead },
  } as unknown as ConstructorParameters<typeof Socket>[0]);
}
