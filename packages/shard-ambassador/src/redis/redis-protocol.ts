import type { PoolConfig } from '../config/pool-schema.js';
import type { PoolProtocol } from '../pool/server-pool.js';
import { encodeCommand, errorReply } from './replies.js';
import { RespReplyFramer } from './resp-reply.js';

/** Server side of a redis pool: RESP reply framing, AUTH + SELECT on each new connection. */
export function redisProtocol(): PoolProtocol {
  const framer = new RespReplyFramer();
  return {
    server: {
      frameReply: (buf, pos, end) => framer.frame(buf, pos, end),
      get need() {
        return framer.need;
      },
      errorReply: (message) => errorReply(message),
    },
    handshake(cfg: PoolConfig) {
      const parts: Buffer[] = [];
      if (cfg.redis_auth) parts.push(encodeCommand([Buffer.from('AUTH'), Buffer.from(cfg.redis_auth)]));
      if (cfg.redis_db > 0)
        parts.push(encodeCommand([Buffer.from('SELECT'), Buffer.from(String(cfg.redis_db))]));
      return parts.length ? { bytes: Buffer.concat(parts), replies: parts.length } : null;
    },
  };
}
