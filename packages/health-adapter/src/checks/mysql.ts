import type * as z from '@dds/core/config/zod';
import { createConnection } from 'mysql2/promise';
import type { mysqlCheck } from './check-spec.js';
import { readPassword } from './password.js';
import { abortPromise, CheckFailure, type Probe, toFailure } from './probe.js';
import { tlsOptions } from './tls-options.js';

const AUTH_ERRORS = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_NOT_SUPPORTED_AUTH_MODE',
]);

/**
 * The book's MySQL adapter: a fresh connection per run (so authentication and the server's accept
 * path are tested too, as an app's new connection would be), then the configured query.
 */
export function mysqlProbe(spec: z.infer<typeof mysqlCheck> & { timeout: number }): Probe {
  const url = new URL(spec.url);
  return {
    componentType: 'datastore',
    async run(signal) {
      const password = readPassword(spec);
      let conn: Awaited<ReturnType<typeof createConnection>> | undefined;
      const onAbort = () => conn?.destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const connecting = createConnection({
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: Number(url.port || 3306),
          user: decodeURIComponent(url.username),
          password,
          database: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined,
          connectTimeout: spec.timeout,
          ssl: tlsOptions(spec),
        });
        // a connection that completes after the timeout must not leak
        connecting.then(
          (c) => {
            conn = c;
            if (signal.aborted) c.destroy();
          },
          () => {},
        );
        conn = await Promise.race([connecting, abortPromise(signal)]);
        const [rows] = await Promise.race([
          conn.query({ sql: spec.query, timeout: spec.timeout }),
          abortPromise(signal),
        ]);
        const n = Array.isArray(rows) ? rows.length : 0;
        return `query returned ${n} row${n === 1 ? '' : 's'}`;
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (AUTH_ERRORS.has(code)) throw new CheckFailure('auth', (err as Error).message);
        if (code === 'PROTOCOL_SEQUENCE_TIMEOUT' || code === 'ETIMEDOUT')
          throw new CheckFailure('timeout', (err as Error).message);
        if (code.startsWith('ER_')) throw new CheckFailure('unhealthy', `${code}: ${(err as Error).message}`);
        if (code === 'HANDSHAKE_NO_SSL_SUPPORT')
          throw new CheckFailure('tls', 'the server does not support TLS connections');
        if (code.startsWith('PROTOCOL_') || code === 'ERR_OUT_OF_RANGE')
          throw new CheckFailure('protocol', `${code}: ${(err as Error).message}`);
        throw toFailure(err, signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
        conn?.end().catch(() => conn?.destroy());
      }
    },
  };
}
