import { encodeCommand } from '@dds/core/redis/resp';
import type { PoolConfig } from '../config/pool-schema.js';
import type { PoolProtocol } from '../pool/server-pool.js';
import { errorReply } from './replies.js';
import { RespReplyFramer } from './resp-reply.js';

/** Server side of a redis pool: RESP reply framing, AUTH + SELECT on each new connection. */
export function redisProtocol(): PoolProtocol {
  return {
    server: {
      createFramer: () => {
        const f = new RespReplyFramer();
        return {
          frame: (buf, pos, end) => f.frame(buf, pos, end),
          get need() {
            return f.need;
          },
          reset: () => f.reset(),
        };
      },
      errorReply: (message) => errorReply(message),
    },
    handshake(cfg: PoolConfig) {
      const parts: Buffer[] = [];
      const what: string[] = [];
      if (cfg.redis_auth) {
        const user = cfg.redis_username === undefined ? [] : [Buffer.from(cfg.redis_username)];
        parts.push(encodeCommand([Buffer.from('AUTH'), ...user, Buffer.from(cfg.redis_auth)]));
        what.push(
          cfg.redis_username === undefined
            ? 'AUTH (redis_auth)'
            : `AUTH as user "${cfg.redis_username}" (redis_username, redis_auth)`,
        );
      }
      if (cfg.redis_db > 0) {
        parts.push(encodeCommand([Buffer.from('SELECT'), Buffer.from(String(cfg.redis_db))]));
        what.push(`SELECT ${cfg.redis_db} (redis_db)`);
      }
      return parts.length ? { bytes: Buffer.concat(parts), replies: parts.length, what } : null;
    },
  };
}
