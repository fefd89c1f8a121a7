import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricSet } from '../../exposition/metric-set.js';
import { render } from '../../exposition/text-format.js';
import {
  globalStatusMetrics,
  globalVariablesMetrics,
  type Row,
  slaveStatusMetrics,
} from './mysql-metrics.js';
import { parseMysqlTarget } from './mysql-target.js';
import { parseStatusValue } from './status-value.js';

const tsv = (f: string): Row[] =>
  readFileSync(new URL(`../../__fixtures__/${f}`, import.meta.url), 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf('\t');
      return [l.slice(0, i), l.slice(i + 1)] as const;
    });
const status = tsv('mariadb-global-status.tsv');
const variables = tsv('mariadb-global-variables.tsv');
const raw = (rows: Row[], k: string) => rows.find(([n]) => n === k)![1];

describe('parseStatusValue (mysqld_exporter rules)', () => {
  it('maps the textual values MariaDB sends', () => {
    expect(parseStatusValue('ON')).toBe(1);
    expect(parseStatusValue('YES')).toBe(1);
    expect(parseStatusValue('Primary')).toBe(1);
    expect(parseStatusValue('OFF')).toBe(0);
    expect(parseStatusValue('Disconnected')).toBe(0);
    expect(parseStatusValue('Non-Primary')).toBe(0);
    expect(parseStatusValue('Connecting')).toBe(0);
    expect(parseStatusValue('12.5')).toBe(12.5);
    expect(parseStatusValue('2026-11-28 16:00:00')).toBe(Date.UTC(2026, 10, 28, 16) / 1000);
    expect(parseStatusValue('Nov 28 16:00:00 2026 GMT')).toBe(Date.UTC(2026, 10, 28, 16) / 1000);
    for (const v of [
      '',
      'NULL',
      'AUTH_MASTER',
      '/var/lib/mysql/',
      '10.11.19-MariaDB',
      'Buffer pool(s) load completed at 251128 16:29:50',
      '0x1F',
    ])
      expect(parseStatusValue(v)).toBeUndefined();
  });

  it('never throws and returns only finite numbers (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const v = parseStatusValue(s);
        if (v !== undefined) expect(Number.isFinite(v)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('SHOW GLOBAL STATUS / VARIABLES of a real MariaDB (mysqld_exporter names)', () => {
  const set = new MetricSet();
  globalStatusMetrics(set, status, 'compat');
  globalVariablesMetrics(set, variables, 'compat');
  const text = render(set, 'text');

  it('labels Com_, Handler_, connection errors, buffer pool pages and InnoDB row ops', () => {
    expect(text).toContain('# TYPE mysql_global_status_commands_total counter\n');
    expect(set.value('mysql_global_status_commands_total', { command: 'select' })).toBe(
      Number(raw(status, 'Com_select')),
    );
    expect(set.value('mysql_global_status_commands_total', { command: 'create_table' })).toBe(
      Number(raw(status, 'Com_create_table')),
    );
    expect(set.value('mysql_global_status_handlers_total', { handler: 'read_rnd_next' })).toBe(
      Number(raw(status, 'Handler_read_rnd_next')),
    );
    expect(set.value('mysql_global_status_connection_errors_total', { error: 'max_connections' })).toBe(
      Number(raw(status, 'Connection_errors_max_connections')),
    );
    expect(set.value('mysql_global_status_buffer_pool_pages', { state: 'free' })).toBe(
      Number(raw(status, 'Innodb_buffer_pool_pages_free')),
    );
    expect(text).toContain('# TYPE mysql_global_status_buffer_pool_pages gauge\n');
    expect(set.value('mysql_global_status_buffer_pool_page_changes_total', { operation: 'flushed' })).toBe(
      Number(raw(status, 'Innodb_buffer_pool_pages_flushed')),
    );
    expect(
      set.value('mysql_global_status_performance_schema_lost_total', { instrumentation: 'accounts_lost' }),
    ).toBe(0);
    // MariaDB 10.11 has no Innodb_rows_*; the family appears when the server sends them
    const rows = new MetricSet();
    globalStatusMetrics(rows, [['Innodb_rows_inserted', '7']], 'compat');
    expect(rows.value('mysql_global_status_innodb_row_ops_total', { operation: 'inserted' })).toBe(7);
  });

  it('passes the other status values through as untyped, lower-cased', () => {
    expect(text).toContain(
      `# TYPE mysql_global_status_uptime untyped\nmysql_global_status_uptime ${raw(status, 'Uptime')}\n`,
    );
    expect(set.value('mysql_global_status_threads_connected')).toBe(Number(raw(status, 'Threads_connected')));
    expect(set.value('mysql_global_status_queries')).toBe(Number(raw(status, 'Queries')));
    expect(set.value('mysql_global_status_slow_queries')).toBe(Number(raw(status, 'Slow_queries')));
    expect(set.value('mysql_global_status_bytes_received')).toBe(Number(raw(status, 'Bytes_received')));
  });

  it('exports variables as gauges, ON/OFF as 1/0, text ones only in mysql_version_info', () => {
    expect(text).toContain(
      `# TYPE mysql_global_variables_max_connections gauge\nmysql_global_variables_max_connections ${raw(variables, 'max_connections')}\n`,
    );
    expect(set.value('mysql_global_variables_innodb_buffer_pool_size')).toBe(134217728);
    expect(set.value('mysql_global_variables_autocommit')).toBe(1);
    expect(set.has('mysql_global_variables_datadir')).toBe(false);
    expect(text).toContain(
      `mysql_version_info{innodb_version="",version="${raw(variables, 'version')}",version_comment="${raw(variables, 'version_comment')}"} 1\n`,
    );
  });

  it('strict mode turns days into seconds and avoids reserved suffixes and type words', () => {
    const strict = new MetricSet();
    globalVariablesMetrics(strict, variables, 'strict');
    expect(strict.value('mysql_global_variables_expire_logs_seconds')).toBe(
      Number(raw(variables, 'expire_logs_days')) * 86400,
    );
    expect(strict.has('mysql_global_variables_max_error_count_value')).toBe(true);
    expect(strict.has('mysql_global_variables_hist_size')).toBe(true);
    expect(strict.has('mysql_global_variables_max_connections')).toBe(true);
  });
});

describe('SHOW SLAVE STATUS', () => {
  it('exports every parsable column per channel with mysqld_exporter labels', () => {
    const set = new MetricSet();
    const columns = [
      'Slave_IO_State',
      'Master_Host',
      'Master_Port',
      'Slave_IO_Running',
      'Slave_SQL_Running',
      'Seconds_Behind_Master',
      'Master_UUID',
      'Channel_Name',
    ];
    slaveStatusMetrics(
      set,
      columns,
      [
        ['Waiting for source', 'db-1', '3306', 'Yes', 'Yes', '3', 'uuid-1', ''],
        ['Connecting', 'db-2', '3306', 'Connecting', 'No', null, 'uuid-2', 'analytics'],
      ],
      'compat',
    );
    const l1 = { master_host: 'db-1', master_uuid: 'uuid-1', channel_name: '', connection_name: '' };
    const l2 = { master_host: 'db-2', master_uuid: 'uuid-2', channel_name: 'analytics', connection_name: '' };
    expect(set.value('mysql_slave_status_slave_io_running', l1)).toBe(1);
    expect(set.value('mysql_slave_status_seconds_behind_master', l1)).toBe(3);
    expect(set.value('mysql_slave_status_slave_io_running', l2)).toBe(0);
    expect(set.value('mysql_slave_status_seconds_behind_master', l2)).toBeUndefined();
    // free text is skipped, but "Connecting" is a state mysqld_exporter reads as 0
    expect(set.value('mysql_slave_status_slave_io_state', l1)).toBeUndefined();
    expect(set.value('mysql_slave_status_slave_io_state', l2)).toBe(0);
    expect(render(set, 'text')).toContain('# TYPE mysql_slave_status_master_port untyped\n');
  });
});

describe('parseMysqlTarget', () => {
  it('reads DSN URLs and bare host:port', () => {
    expect(parseMysqlTarget('mysql://dds:p%40ss@127.0.0.1:3307')).toEqual({
      host: '127.0.0.1',
      port: 3307,
      user: 'dds',
      password: 'p@ss',
      tls: false,
    });
    expect(parseMysqlTarget('db:3306')).toEqual({ host: 'db', port: 3306, tls: false });
    expect(parseMysqlTarget('mysql://u@db?tls=true')).toEqual({
      host: 'db',
      port: 3306,
      user: 'u',
      tls: true,
    });
    expect(parseMysqlTarget('http://db')).toMatch(/unsupported scheme/);
  });
});
