/**
 * The one buffer every hot-path socket of the process reads into (`onread`): no allocation and
 * no stream machinery per read. Reads run one at a time on the event loop and each callback is done with the bytes
 * before the next read, so one buffer serves all sockets. The rule that follows: bytes in it are
 * valid only during the read callback; whatever must outlive it is copied.
 */
export const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Called with READ_BUFFER holding `n` new bytes; see READ_BUFFER for how long they are valid. */
export type OnRead = (n: number, buf: Buffer) => void;
