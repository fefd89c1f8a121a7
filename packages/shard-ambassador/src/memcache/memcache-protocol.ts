import type { PoolProtocol } from '../pool/server-pool.js';
import { MemcacheReplyFramer } from './memcache-reply.js';

export const serverError = (message: string): Buffer =>
  Buffer.from(`SERVER_ERROR ${message.replace(/[\r\n]+/g, ' ')}\r\n`);

/** Server side of a memcache pool: replies framed by the kind of request, no handshake. */
export function memcacheProtocol(): PoolProtocol {
  const framer = new MemcacheReplyFramer();
  return {
    server: {
      frameReply: (buf, pos, end, req) => framer.frame(buf, pos, end, req.kind),
      get need() {
        return framer.need;
      },
      errorReply: serverError,
    },
    handshake: () => null,
  };
}
