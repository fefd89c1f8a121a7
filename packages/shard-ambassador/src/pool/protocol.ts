import type { Request } from './request.js';

/**
 * Frames the replies of one server connection. Framers keep state across reads (a reply
 * arriving in pieces is walked once), so each connection has its own.
 */
export interface ReplyFramer {
  /**
   * End offset of the complete reply starting at buf[pos], or -1 if more bytes are needed
   * (then `need` holds the least number of bytes from pos that could complete it, and the next
   * call must pass the same reply with more bytes, or reset() first).
   * Throws on bytes that are not a valid reply.
   */
  frame(buf: Buffer, pos: number, end: number, req: Request): number;
  readonly need: number;
  reset(): void;
}

/** What a server connection needs to know about the wire protocol it carries. */
export interface ServerProtocol {
  createFramer(): ReplyFramer;
  /** an error reply for a request the proxy could not get answered */
  errorReply(message: string): Buffer;
}
