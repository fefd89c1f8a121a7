import type * as z from '@dds/core/config/zod';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import type { memcachedCheck } from './check-spec.js';
import { CheckFailure, type Probe } from './probe.js';
import { type ReplyParser, SocketSession } from './socket-session.js';

/** One text-protocol line (up to CRLF). */
export const textLine: ReplyParser<string> = (buf) => {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) {
    if (buf.length > 1024) throw new CheckFailure('protocol', 'not a memcached reply (no line end in 1 KiB)');
    return undefined;
  }
  return { value: buf.toString('latin1', 0, eol), used: eol + 2 };
};

/** memcached: `version` must answer `VERSION x.y.z`. */
export function memcachedProbe(spec: z.infer<typeof memcachedCheck>): Probe {
  const a = parseAddress(spec.address) as Address;
  const target = a.kind === 'tcp' ? { host: a.host, port: a.port } : { host: '', port: 0 };
  return {
    componentType: 'datastore',
    async run(signal) {
      const session = await SocketSession.open(target, signal, 4096);
      try {
        session.send('version\r\n');
        return versionOf(await session.read(textLine));
      } finally {
        session.close();
      }
    },
  };
}

/** The answer to `version`: `VERSION x` passes, an error line is unhealthy, anything else is garbage. */
export function versionOf(reply: string): string {
  const m = /^VERSION (\S+)$/.exec(reply);
  if (m) return `memcached ${m[1]}`;
  if (/^(SERVER_|CLIENT_)?ERROR/.test(reply)) throw new CheckFailure('unhealthy', reply.slice(0, 200));
  throw new CheckFailure('protocol', `not a memcached reply: ${JSON.stringify(reply.slice(0, 80))}`);
}
