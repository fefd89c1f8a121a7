import type * as z from '@dds/core/config/zod';
import pg from 'pg';
import type { postgresCheck } from './check-spec.js';
import { readPassword } from './password.js';
import { abortPromise, CheckFailure, type Probe, toFailure } from './probe.js';
import { tlsOptions } from './tls-options.js';

/** SQLSTATE classes: 28 = invalid authorization, 3D = no such database. */
const AUTH_STATES = /^(28|3D)/;

/** PostgreSQL: a fresh connection per run, then the configured query, both under the timeout. */
export function postgresProbe(spec: z.infer<typeof postgresCheck> & { timeout: number }): Probe {
  const url = new URL(spec.url);
  return {
    componentType: 'datastore',
    async run(signal) {
      const client = new pg.Client({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || 5432),
        user: decodeURIComponent(url.username) || undefined,
        password: readPassword(spec),
        database: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined,
        connectionTimeoutMillis: spec.timeout,
        query_timeout: spec.timeout,
        statement_timeout: spec.timeout,
        application_name: 'dds-health-adapter',
        ssl: tlsOptions(spec) ?? false,
      });
      // pg emits 'error' on the client for a connection lost between queries
      client.on('error', () => {});
      const onAbort = () => {
        (
          client as unknown as { connection?: { stream?: { destroy(): void } } }
        ).connection?.stream?.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await Promise.race([client.connect(), abortPromise(signal)]);
        const r = await Promise.race([client.query(spec.query), abortPromise(signal)]);
        return `query returned ${r.rowCount ?? r.rows.length} row${r.rows.length === 1 ? '' : 's'}`;
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code && AUTH_STATES.test(e.code)) throw new CheckFailure('auth', `${e.code}: ${e.message}`);
        if (e.code && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(e.code))
          throw new CheckFailure('unhealthy', `${e.code}: ${e.message}`);
        if (/timeout/i.test(e.message ?? '')) throw new CheckFailure('timeout', e.message!);
        throw toFailure(err, signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
        client.end().catch(() => {});
      }
    },
  };
}
