/** RESP2 replies the proxy writes itself. */
export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const EMPTY_ARRAY = Buffer.from('*0\r\n');
export const NOAUTH = Buffer.from('-NOAUTH Authentication required.\r\n');

/** An error reply; `prefix` is the Redis error code (ERR, NOAUTH, CROSSSLOT...). */
export const errorReply = (message: string, prefix = 'ERR'): Buffer =>
  Buffer.from(`-${prefix} ${message.replace(/[\r\n]+/g, ' ')}\r\n`);

export const bulkReply = (b: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);

/** A RESP request (array of bulk strings) from parts of buffers. */
export function encodeCommand(parts: readonly Buffer[]): Buffer {
  let size = 0;
  const heads = parts.map((p) => {
    const h = `$${p.length}\r\n`;
    size += h.length + p.length + 2;
    return h;
  });
  const top = `*${parts.length}\r\n`;
  const out = Buffer.allocUnsafe(top.length + size);
  let o = out.write(top, 0, 'latin1');
  for (let i = 0; i < parts.length; i++) {
    o += out.write(heads[i]!, o, 'latin1');
    o += parts[i]!.copy(out, o);
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}
