import type * as z from '@dds/core/config/zod';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { ExchangeError, exchange, type ReplyDecoder } from '@dds/core/net/socket-exchange';
import type { memcachedCheck } from './check-spec.js';
import { CheckFailure, type FailureReason, type Probe } from './probe.js';

/** Reads one complete reply from the front of buf: its value and the bytes it used, or undefined if incomplete. */
export type ReplyParser<T> = (buf: Buffer) => { value: T; used: number } | undefined;

/** One text-protocol line (up to CRLF). */
export const textLine: ReplyParser<string> = (buf) => {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) {
    if (buf.length > 1024) throw new CheckFailure('protocol', 'not a memcached reply (no line end in 1 KiB)');
    return undefined;
  }
  return { value: buf.toString('latin1', 0, eol), used: eol + 2 };
};

/** The first line of the reply, for core's socket exchange. */
class FirstLine implements ReplyDecoder<string> {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): string | undefined {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return textLine(this.buf)?.value;
  }
}

const REASONS: Record<string, FailureReason> = {
  unreachable: 'connect',
  timeout: 'timeout',
  tls: 'tls',
  protocol: 'protocol',
  too_large: 'protocol',
  error: 'error',
};

/** memcached: `version` must answer `VERSION x.y.z`. */
export function memcachedProbe(spec: z.infer<typeof memcachedCheck>): Probe {
  const a = parseAddress(spec.address) as Address;
  const target = a.kind === 'tcp' ? { host: a.host, port: a.port } : { host: '', port: 0 };
  return {
    componentType: 'datastore',
    async run(signal) {
      try {
        const line = await exchange(target, 'version\r\n', new FirstLine(), {
          // the run's signal is the deadline
          timeoutMs: 3_600_000,
          maxBytes: 4096,
          signal,
        });
        return versionOf(line);
      } catch (err) {
        if (err instanceof ExchangeError) {
          if (err.cause instanceof CheckFailure) throw err.cause;
          throw new CheckFailure(REASONS[err.reason] ?? 'error', err.message);
        }
        throw err;
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
