import type { Request } from './request.js';

/** What a server connection needs to know about the wire protocol it carries. */
export interface ServerProtocol {
  /**
   * End offset of the complete reply starting at buf[pos], or -1 if more bytes are needed
   * (then `need` holds the least number of bytes from pos that could complete it).
   * Throws on bytes that are not a valid reply.
   */
  frameReply(buf: Buffer, pos: number, end: number, req: Request): number;
  need: number;
  /** an error reply for a request the proxy could not get answered */
  errorReply(message: string): Buffer;
}
