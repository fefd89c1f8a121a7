import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { FAST_PATHS, probe, switchedOffByEnv } from './fast-paths.js';
import { streamState } from './stream-state.js';

/**
 * What a connected net.Socket's libuv handle (TCP or Pipe wrap) offers for writing. Two shapes:
 * Node up to 22 passes a WriteWrap it made (`writeBuffer(req, data)`, returns an error code);
 * Node 24 passes null and the handle returns a number when the write finished at once, or a
 * request object it made when libuv must finish it later (`writeBuffer(null, data)`).
 */
interface StreamHandle {
  writeBuffer(req: WriteReq | null, data: Buffer): number | WriteReq;
  readonly writeQueueSize: number;
}

/** Node's WriteWrap: a request object the handle takes over when a write cannot finish at once. */
interface WriteReq {
  /** called by the handle when such a write finished (status < 0: failed) */
  oncomplete: (status: number) => void;
  /** keeps the bytes alive while libuv still has to write them */
  buffer: Buffer | null;
  /** Node 24: the status of a write that finished before oncomplete was set, else null */
  writeStatus?: number | null;
}

type WriteWrapClass = new () => WriteReq;

/** The handle makes its own request objects (Node 24's writeBuffer(null, data)). */
const LAZY = 'lazy';

/**
 * How this Node's handles take writes, learned from the first write a socket makes the
 * ordinary way (nothing here is exported by Node): its WriteWrap class, LAZY, undefined until
 * learned, or null when this Node does not look as expected (every write then goes through
 * socket.write).
 */
let writeWrap: WriteWrapClass | typeof LAZY | null | undefined;
let enabled = !switchedOffByEnv(FAST_PATHS.directWrite);
// switched off: reported at once (otherwise the verdict is reported when learned, see learn)
if (!enabled) probe(FAST_PATHS.directWrite, () => true);
/** ordinary writes that passed without showing the class; after LEARN_TRIES, give up */
let tries = 0;
const LEARN_TRIES = 32;

/** Turns direct writes off (or back on): the plain socket.write path, for tests and as a switch. */
export function setDirectWrites(on: boolean): void {
  enabled = on;
}

/** Whether writes currently go straight to the handle (after the way to do so was learned). */
export function directWritesActive(): boolean {
  return enabled && (typeof writeWrap === 'function' || writeWrap === LAZY);
}

function handleOf(socket: Socket): StreamHandle | null {
  const h = (socket as unknown as { _handle?: unknown })._handle;
  return h !== null && typeof h === 'object' && typeof (h as StreamHandle).writeBuffer === 'function'
    ? (h as StreamHandle)
    : null;
}

/**
 * Writes one socket's output. socket.write() runs every chunk through stream.Writable (state,
 * callbacks, a nextTick per write) before it reaches the handle; at one write per client request
 * that is a good part of the proxy's CPU. This writer hands the bytes to the socket's libuv
 * handle as Node's own net code does (the kernel takes them at once in the common case; libuv
 * queues the rest and calls back), and falls back to socket.write() whenever that is not
 * possible: while connecting, when the Writable itself still holds bytes, on a Node whose
 * internals differ.
 */
export class SocketWriter {
  /** oncomplete of this socket's write requests */
  private readonly afterWrite = (status: number): void => {
    if (status < 0) this.socket.destroy(writeError(status));
    else this.onDrain?.();
  };

  /**
   * the request object of the last direct write, when that write finished at once (the handle
   * did not keep it): reused for the next one instead of constructing a WriteWrap per write
   */
  private spare: WriteReq | null = null;

  constructor(
    private readonly socket: Socket,
    /** called when queued bytes were written (backpressure may lift) */
    private readonly onDrain: (() => void) | null = null,
    /** false: always socket.write (a TLS socket, whose handle is not a plain stream) */
    private readonly direct = true,
  ) {
    if (onDrain !== null) socket.on('drain', onDrain);
  }

  /** Bytes accepted but not yet taken by the kernel. */
  get pending(): number {
    const h = handleOf(this.socket);
    return this.socket.writableLength + (h === null ? 0 : h.writeQueueSize);
  }

  /**
   * Writes data; true when the kernel has taken all of it and nothing is queued on the socket
   * (then the memory of this and every earlier write may be reused).
   */
  write(data: Buffer): boolean {
    const s = this.socket;
    const W = writeWrap;
    if (!this.direct) {
      s.write(data);
      return false;
    }
    if (W === LAZY && enabled && !s.connecting && s.writableLength === 0) {
      const h = handleOf(s);
      if (h !== null) return this.writeLazy(h, data);
    }
    if (typeof W === 'function' && enabled && !s.connecting && s.writableLength === 0) {
      const h = handleOf(s);
      if (h !== null) {
        let req = this.spare;
        if (req === null) {
          req = new W();
          req.oncomplete = this.afterWrite;
        }
        req.buffer = data;
        const err = h.writeBuffer(req, data) as number;
        // a request libuv took (async) belongs to it until oncomplete: never reuse that one; the
        // flag is only readable through the stream state (without it: a new request per write)
        const st = streamState();
        if (st !== null && st.state[st.lastWriteWasAsync] === 0) {
          req.buffer = null;
          this.spare = req;
          // not queued and no error: the kernel took every byte (no need to ask the handle)
          if (err === 0) return true;
        } else this.spare = null;
        if (err !== 0) {
          s.destroy(writeError(err));
          return false;
        }
        // libuv has written everything it was given (a completion may still be reported)
        return h.writeQueueSize === 0;
      }
    }
    if (W === undefined && enabled) learn(s, data);
    else s.write(data);
    return false;
  }

  /** Node 24's shape: a number when the kernel took every byte (or on error), else libuv's request. */
  private writeLazy(h: StreamHandle, data: Buffer): boolean {
    const ret = h.writeBuffer(null, data);
    if (typeof ret === 'number') {
      if (ret === 0) return true;
      this.socket.destroy(writeError(ret));
      return false;
    }
    if (ret === null || typeof ret !== 'object') {
      // not the shape learned: leave the direct path for good
      writeWrap = null;
      this.socket.destroy(new Error('unexpected result of a direct write'));
      return false;
    }
    const st = streamState();
    const failed = st?.lastWriteErr === undefined ? 0 : st.state[st.lastWriteErr]!;
    if (failed !== 0) {
      this.socket.destroy(writeError(failed));
      return false;
    }
    ret.oncomplete = this.afterWrite;
    // libuv holds the bytes until it is done
    ret.buffer = data;
    const status = ret.writeStatus;
    if (typeof status === 'number') {
      ret.writeStatus = null;
      this.afterWrite(status);
    }
    return false;
  }
}

function writeError(code: number): NodeJS.ErrnoException {
  let name = `E${-code}`;
  try {
    name = getSystemErrorName(code);
  } catch {
    // not a known errno: keep the number
  }
  const e = new Error(`write ${name}`) as NodeJS.ErrnoException;
  e.errno = code;
  e.code = name;
  e.syscall = 'write';
  return e;
}

/** Writes through socket.write, catching the request class Node hands its handle on the way. */
function learn(s: Socket, data: Buffer): void {
  const h = handleOf(s) as { writeBuffer?: StreamHandle['writeBuffer']; writeQueueSize?: unknown } | null;
  // the direct path also needs the handle's queue size (backpressure, reuse of written bytes)
  if (h !== null && typeof h.writeQueueSize !== 'number') {
    writeWrap = null;
    probe(FAST_PATHS.directWrite, () => 'socket handles report no write queue size');
    s.write(data);
    return;
  }
  if (h === null || s.connecting || Object.hasOwn(h, 'writeBuffer')) {
    s.write(data);
    return;
  }
  const own = h.writeBuffer!;
  let seen: unknown;
  let called = false;
  h.writeBuffer = function (this: StreamHandle, req: WriteReq | null, bytes: Buffer): number | WriteReq {
    called = true;
    seen = req === null ? LAZY : (req as { constructor?: unknown } | undefined)?.constructor;
    return own.call(this, req, bytes);
  };
  try {
    s.write(data);
  } finally {
    delete h.writeBuffer;
  }
  if (called) writeWrap = seen === LAZY && lazyWritesUsable() ? LAZY : asWriteWrap(seen);
  else if (++tries >= LEARN_TRIES) writeWrap = null; // this Node writes some other way
  if (writeWrap !== undefined)
    probe(FAST_PATHS.directWrite, () =>
      writeWrap !== null ? true : "this Node's socket handles take writes in a shape this code does not know",
    );
}

/** Node 24's shape also needs the stream state's write error slot (a failed async dispatch). */
function lazyWritesUsable(): boolean {
  const st = streamState();
  return st !== null && st.lastWriteErr !== undefined;
}

/** The request class seen on the way to the handle, if it is the one this code knows; else null. */
export function asWriteWrap(seen: unknown): WriteWrapClass | null {
  return typeof seen === 'function' && (seen as { name?: string }).name === 'WriteWrap'
    ? (seen as WriteWrapClass)
    : null;
}
