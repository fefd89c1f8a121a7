import type { PoolProtocol } from '../pool/server-pool.js';
import { MemcacheReplyFramer } from './memcache-reply.js';

export const serverError = (message: string): Buffer =>
  Buffer.from(`SERVER_ERROR ${message.replace(/[\r\n]+/g, ' ')}\r\n`);

/** Server side of a memcache pool: replies framed by the kind of request, no handshake. */
export function memcacheProtocol(): PoolProtocol {
  return {
    server: {
      createFramer: () => {
        const f = new MemcacheReplyFramer();
        return {
          frame: (buf, pos, end, req) => f.frame(buf, pos, end, req.kind),
          get need() {
            return f.need;
          },
          reset: () => f.reset(),
        };
      },
      errorReply: serverError,
    },
    handshake: () => null,
  };
}
