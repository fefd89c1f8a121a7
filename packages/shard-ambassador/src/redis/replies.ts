/**
 * RESP2 replies the proxy writes itself. Commands it sends are encoded by core's encodeCommand
 * (`@dds/core/redis/resp`), the one RESP2 command encoder; the zero-copy framers
 * (resp-request.ts, resp-reply.ts) say why they stay apart from core's decoder.
 */
export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const EMPTY_ARRAY = Buffer.from('*0\r\n');
export const NOAUTH = Buffer.from('-NOAUTH Authentication required.\r\n');

/** An error reply; `prefix` is the Redis error code (ERR, NOAUTH, CROSSSLOT...). */
export const errorReply = (message: string, prefix = 'ERR'): Buffer =>
  Buffer.from(`-${prefix} ${message.replace(/[\r\n]+/g, ' ')}\r\n`);

export const bulkReply = (b: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
