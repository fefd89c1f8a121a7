import type { MetricSet } from '../../exposition/metric-set.js';
import type { Naming } from '../../exposition/naming.js';
import { sanitizeName, strictGenericName } from '../../exposition/naming.js';
import { parseStatusValue } from './status-value.js';

export type Row = readonly [name: string, value: string | null];

const GROUP_RE =
  /^(com|handler|connection_errors|innodb_buffer_pool_pages|innodb_rows|performance_schema)_(.*)$/;
const PAGE_STATES = new Set(['data', 'free', 'misc', 'old']);

/** SHOW GLOBAL STATUS -> mysql_global_status_*, with mysqld_exporter's labelled families. */
export function globalStatusMetrics(
  set: MetricSet,
  rows: readonly Row[],
  naming: Naming,
  ns = 'mysql',
): number {
  let skipped = 0;
  const p = `${ns}_global_status`;
  for (const [rawKey, raw] of rows) {
    const v = raw === null ? undefined : parseStatusValue(raw);
    if (v === undefined) {
      skipped++;
      continue;
    }
    const key = sanitizeName(rawKey.toLowerCase());
    const m = GROUP_RE.exec(key);
    if (!m) {
      const [name, scale] = naming === 'strict' ? strictGenericName(`${p}_${key}`) : [`${p}_${key}`, 1];
      set.add(name, 'untyped', 'Generic metric from SHOW GLOBAL STATUS.', v * scale);
      continue;
    }
    const rest = m[2]!;
    switch (m[1]) {
      case 'com':
        set.counter(`${p}_commands_total`, 'Total number of executed MySQL commands.', v, { command: rest });
        break;
      case 'handler':
        set.counter(`${p}_handlers_total`, 'Total number of executed MySQL handlers.', v, { handler: rest });
        break;
      case 'connection_errors':
        set.counter(`${p}_connection_errors_total`, 'Total number of MySQL connection errors.', v, {
          error: rest,
        });
        break;
      case 'innodb_buffer_pool_pages':
        if (PAGE_STATES.has(rest))
          set.gauge(`${p}_buffer_pool_pages`, 'Innodb buffer pool pages by state.', v, { state: rest });
        else if (rest === 'dirty')
          set.gauge(`${p}_buffer_pool_dirty_pages`, 'Innodb buffer pool dirty pages.', v);
        else if (rest !== 'total')
          set.counter(`${p}_buffer_pool_page_changes_total`, 'Innodb buffer pool page state changes.', v, {
            operation: rest,
          });
        break;
      case 'innodb_rows':
        set.counter(`${p}_innodb_row_ops_total`, 'Total number of MySQL InnoDB row operations.', v, {
          operation: rest,
        });
        break;
      case 'performance_schema':
        set.counter(
          `${p}_performance_schema_lost_total`,
          'Total number of MySQL instrumentations that could not be loaded or created due to memory constraints.',
          v,
          { instrumentation: rest },
        );
        break;
    }
  }
  return skipped;
}

const VERSION_KEYS = ['innodb_version', 'version', 'version_comment'] as const;

/** SHOW GLOBAL VARIABLES -> mysql_global_variables_* gauges and mysql_version_info. */
export function globalVariablesMetrics(
  set: MetricSet,
  rows: readonly Row[],
  naming: Naming,
  ns = 'mysql',
): number {
  let skipped = 0;
  const text = new Map<string, string>();
  for (const [rawKey, raw] of rows) {
    const key = sanitizeName(rawKey.toLowerCase());
    const v = raw === null ? undefined : parseStatusValue(raw);
    if (v === undefined) {
      if ((VERSION_KEYS as readonly string[]).includes(key)) text.set(key, raw ?? '');
      skipped++;
      continue;
    }
    const plain = `${ns}_global_variables_${key}`;
    const [name, scale] = naming === 'strict' ? strictGenericName(plain) : [plain, 1];
    set.gauge(name, 'Generic gauge metric from SHOW GLOBAL VARIABLES.', v * scale);
  }
  set.gauge(`${ns}_version_info`, 'MySQL version and distribution.', 1, {
    innodb_version: text.get('innodb_version') ?? '',
    version: text.get('version') ?? '',
    version_comment: text.get('version_comment') ?? '',
  });
  return skipped;
}

const REPLICA_LABELS = [
  ['master_host', 'Master_Host'],
  ['master_uuid', 'Master_UUID'],
  ['channel_name', 'Channel_Name'], // MySQL
  ['connection_name', 'Connection_name'], // MariaDB multi-source
] as const;

/** SHOW ALL SLAVES STATUS (MariaDB) / SHOW SLAVE STATUS (MySQL) -> mysql_slave_status_*, one series per channel. */
export function slaveStatusMetrics(
  set: MetricSet,
  columns: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | null>>,
  naming: Naming,
  ns = 'mysql',
): void {
  const index = new Map(columns.map((c, i) => [c, i]));
  for (const row of rows) {
    const labels: Record<string, string> = {};
    for (const [label, column] of REPLICA_LABELS) {
      const i = index.get(column);
      labels[label] = i === undefined ? '' : (row[i] ?? '');
    }
    columns.forEach((column, i) => {
      const raw = row[i];
      const v = raw === null || raw === undefined ? undefined : parseStatusValue(String(raw));
      if (v === undefined) return;
      const plain = `${ns}_slave_status_${sanitizeName(column.toLowerCase())}`;
      const [name, scale] = naming === 'strict' ? strictGenericName(plain) : [plain, 1];
      set.add(name, 'untyped', 'Generic metric from SHOW SLAVE STATUS.', v * scale, labels);
    });
  }
}
