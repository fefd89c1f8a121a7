import type { Socket } from 'node:net';

/** How a spliced pair of connections ended. */
export type SpliceEnd =
  /** both directions finished (each side's FIN passed on) */
  | 'closed'
  /** a reset or I/O error on either side: both were destroyed */
  | 'error'
  /** no byte either way for the idle timeout */
  | 'idle';

/**
 * Joins two connections byte for byte, with back-pressure both ways, and half-close passed
 * through: when one side finishes sending (FIN, or TLS close_notify), the other side's write
 * half is ended and the opposite direction keeps flowing until it finishes too (a client that
 * sends a request and shuts down its write side still gets the whole answer). Both sockets must
 * have been made with allowHalfOpen. An error on either side destroys both; so does a side that
 * closes while the other still has a direction open.
 */
export function splice(
  a: Socket,
  b: Socket,
  idleTimeout: number,
  onEnd: (how: SpliceEnd, err?: Error) => void,
): void {
  let done = false;
  const finish = (how: SpliceEnd, err?: Error) => {
    if (done) return;
    done = true;
    onEnd(how, err);
  };
  const onError = (err: Error) => {
    a.destroy();
    b.destroy();
    finish('error', err);
  };
  a.on('error', onError);
  b.on('error', onError);
  let closed = 0;
  const onClose = (self: Socket, other: Socket) => () => {
    // a side that went away with data still to pass (destroyed, or reset) takes the other along
    if (!(self.readableEnded && self.writableFinished) && !other.destroyed) other.destroy();
    if (++closed === 2) finish('closed');
  };
  a.once('close', onClose(a, b));
  b.once('close', onClose(b, a));
  if (idleTimeout > 0) {
    const onIdle = () => {
      a.destroy();
      b.destroy();
      finish('idle');
    };
    // reads and writes both reset a socket's timer, so one direction flowing keeps both alive
    a.setTimeout(idleTimeout, onIdle);
    b.setTimeout(idleTimeout, onIdle);
  }
  a.pipe(b);
  b.pipe(a);
}
