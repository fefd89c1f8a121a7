import { readFile } from 'node:fs/promises';
import type { Connection } from 'mysql2/promise';
import type { MetricSet } from '../../exposition/metric-set.js';
import { ScrapeError, toScrapeError } from '../scrape-error.js';
import type { CollectNotes, ScrapeOptions, Source } from '../source.js';
import {
  globalStatusMetrics,
  globalVariablesMetrics,
  type Row,
  slaveStatusMetrics,
} from './mysql-metrics.js';
import { type MysqlTarget, parseMysqlTarget } from './mysql-target.js';

export interface MysqlSourceConfig {
  target: string;
  password: string;
  passwordFile: string;
}

const AUTH_CODES = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_NOT_SUPPORTED_AUTH_MODE',
]);

function classify(err: unknown, where: string): ScrapeError {
  const code = (err as { code?: string }).code ?? '';
  if (AUTH_CODES.has(code))
    return new ScrapeError('auth', `${where}: ${(err as Error).message}`, { cause: err });
  if (code === 'PROTOCOL_SEQUENCE_TIMEOUT') return new ScrapeError('timeout', `${where}: query timed out`);
  return toScrapeError(err, where);
}

export function mysqlSource(cfg: MysqlSourceConfig): Source {
  const base = parseMysqlTarget(cfg.target || '127.0.0.1:3306');
  return {
    kind: 'mysql',
    namespace: 'mysql',
    multiTargetPath: '/probe',
    defaultTarget: cfg.target,
    checkTarget: (t) => {
      const r = parseMysqlTarget(t);
      return typeof r === 'string' ? r : undefined;
    },
    describe: (t) => t.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@'),
    async collect(set: MetricSet, target: string, opts: ScrapeOptions): Promise<CollectNotes> {
      const t = parseMysqlTarget(target);
      if (typeof t === 'string') throw new Error(t);
      const fallback: Partial<MysqlTarget> = typeof base === 'string' ? {} : base;
      const password =
        t.password ??
        (cfg.passwordFile
          ? (await readFile(cfg.passwordFile, 'utf8')).trim()
          : cfg.password || fallback.password);
      const where = `${t.host}:${t.port}`;
      const deadline = Date.now() + opts.timeoutMs;
      let conn: Connection | undefined;
      let abandoned = false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abandoned = true;
          reject(new ScrapeError('timeout', `${where}: no answer within ${opts.timeoutMs}ms`));
        }, opts.timeoutMs);
      });
      try {
        const work = (async () => {
          // mysql2 loads with the first MySQL scrape (the other sources never use it)
          const { createConnection } = (await import('mysql2/promise')).default;
          const c = await createConnection({
            host: t.host,
            port: t.port,
            user: t.user ?? fallback.user ?? 'root',
            password: password ?? '',
            connectTimeout: opts.timeoutMs,
            // every value as the server's text, as mysqld_exporter reads sql.RawBytes
            dateStrings: true,
            supportBigNumbers: true,
            bigNumberStrings: true,
            typeCast: (field, next) =>
              field.type === 'JSON' || field.type === 'GEOMETRY' ? next() : field.string(),
            ...(t.tls ? { ssl: {} } : {}),
          });
          // errors after the handshake (server gone) must not become unhandled 'error' events
          c.on('error', () => {});
          if (abandoned) return c.destroy();
          conn = c;
          const left = () => Math.max(1, deadline - Date.now());
          const timed = async (collector: string, sql: string) => {
            const t0 = performance.now();
            const [rows] = await c.query({ sql, rowsAsArray: true, timeout: left() });
            set.gauge(
              `mysql_exporter_collector_duration_seconds`,
              'Collector time duration.',
              (performance.now() - t0) / 1000,
              { collector },
            );
            return rows as unknown as Row[];
          };
          const status = await timed('collect.global_status', 'SHOW GLOBAL STATUS');
          const vars = await timed('collect.global_variables', 'SHOW GLOBAL VARIABLES');
          globalStatusMetrics(set, status, opts.naming);
          globalVariablesMetrics(set, vars, opts.naming);
          // replication: MariaDB lists every connection with SHOW ALL SLAVES STATUS, MySQL has one
          const t1 = performance.now();
          const replica = await c
            .query({ sql: 'SHOW ALL SLAVES STATUS', rowsAsArray: true, timeout: left() })
            .catch(() => c.query({ sql: 'SHOW SLAVE STATUS', rowsAsArray: true, timeout: left() }))
            .catch(() => undefined); // no privilege (REPLICATION CLIENT) or no replication at all
          if (replica) {
            const [rows, fields] = replica as unknown as [
              Array<Array<string | null>>,
              Array<{ name: string }>,
            ];
            slaveStatusMetrics(
              set,
              fields.map((f) => f.name),
              rows,
              opts.naming,
            );
          }
          set.gauge(
            'mysql_exporter_collector_duration_seconds',
            'Collector time duration.',
            (performance.now() - t1) / 1000,
            {
              collector: 'collect.slave_status',
            },
          );
          // close politely (COM_QUIT): a dropped socket counts as Aborted_clients on the server,
          // the very metric the dashboards watch; the finally block only destroys abandoned ones
          conn = undefined;
          await c.end().catch(() => c.destroy());
        })();
        work.catch(() => {});
        await Promise.race([work, timeout]);
        // non-numeric values (paths, versions, NULL) are normal in MySQL status: not bad input
        return { skipped: 0, examples: [] };
      } catch (err) {
        throw classify(err, where);
      } finally {
        clearTimeout(timer);
        (conn as Connection | undefined)?.destroy();
      }
    },
  };
}
