import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, run, type Service, start, startMariaDb, tempDir, waitForHttp } from '@dds/test-support';
import {
  type Adapter,
  families,
  get,
  labelNames,
  promtool,
  samples,
  startAdapter,
  typeOf,
} from '@dds/test-support/metrics-adapter/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('MySQL source against a real MariaDB', () => {
  let db: Service & { socket: string; url: string };
  let compat: Adapter;
  let strict: Adapter;
  let passwordFile: string;

  beforeAll(async () => {
    db = await startMariaDb();
    await run('mariadb', [
      '--no-defaults',
      `--socket=${db.socket}`,
      '-uroot',
      '-e',
      'CREATE TABLE dds.t (id INT PRIMARY KEY); INSERT INTO dds.t VALUES (1),(2); SELECT * FROM dds.t;' +
        // a configured (not started) replication connection, so SHOW ALL SLAVES STATUS has a row
        " CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=1, MASTER_USER='repl';",
    ]);
    passwordFile = join(tempDir('mysql-pass'), 'password');
    writeFileSync(passwordFile, 'ddspass\n');
    [compat, strict] = await Promise.all([
      startAdapter('mysql', [
        '--mysql',
        `mysql://dds@127.0.0.1:${db.port}`,
        '--mysql-password-file',
        passwordFile,
      ]),
      startAdapter('mysql', ['--mysql', `mysql://dds@127.0.0.1:${db.port}`, '--naming', 'strict'], {
        DDS_MYSQL_PASSWORD: 'ddspass',
      }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([compat?.stop(), strict?.stop()]);
    await db?.stop();
  });

  it('serves mysqld_exporter names with the right types and labels', async () => {
    const r = await get(`${compat.url}/metrics`);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const t = r.body;
    expect(samples(t, 'mysql_up')).toEqual(['mysql_up 1']);
    expect(typeOf(t, 'mysql_global_status_commands_total')).toBe('counter');
    expect(t).toMatch(/^mysql_global_status_commands_total\{command="insert"\} [1-9]\d*$/m);
    expect(t).toMatch(/^mysql_global_status_commands_total\{command="create_table"\} [1-9]\d*$/m);
    expect(typeOf(t, 'mysql_global_status_handlers_total')).toBe('counter');
    expect(t).toMatch(/^mysql_global_status_handlers_total\{handler="write"\} \d+$/m);
    expect(typeOf(t, 'mysql_global_status_connection_errors_total')).toBe('counter');
    expect(typeOf(t, 'mysql_global_status_buffer_pool_pages')).toBe('gauge');
    expect(t).toMatch(/^mysql_global_status_buffer_pool_pages\{state="data"\} \d+$/m);
    expect(typeOf(t, 'mysql_global_status_buffer_pool_page_changes_total')).toBe('counter');
    expect(typeOf(t, 'mysql_global_status_uptime')).toBe('untyped');
    expect(t).toMatch(/^mysql_global_status_threads_connected [1-9]\d*$/m);
    expect(t).toMatch(/^mysql_global_status_queries \d+$/m);
    expect(typeOf(t, 'mysql_global_variables_max_connections')).toBe('gauge');
    expect(t).toMatch(/^mysql_global_variables_max_connections 151$/m);
    expect(t).toMatch(/^mysql_global_variables_innodb_buffer_pool_size 16777216$/m);
    expect(t).toMatch(
      /^mysql_version_info\{innodb_version="[^"]*",version="10\.[^"]*MariaDB[^"]*",version_comment="[^"]*"\} 1$/m,
    );
    expect(typeOf(t, 'mysql_slave_status_slave_io_running')).toBe('untyped');
    expect(t).toMatch(
      /^mysql_slave_status_slave_io_running\{master_host="127.0.0.1",master_uuid="",channel_name="",connection_name=""\} 0$/m,
    );
    expect(t).toMatch(/^mysql_slave_status_master_port\{master_host="127.0.0.1",[^}]*\} 1$/m);
    expect(t).toMatch(
      /^mysql_exporter_collector_duration_seconds\{collector="collect.global_status"\} [\d.e-]+$/m,
    );
  });

  it('matches the real mysqld_exporter (Debian prometheus-mysqld-exporter) for global status and variables', async () => {
    const port = await freePort();
    const peer = start('prometheus-mysqld-exporter', [`--web.listen-address=127.0.0.1:${port}`], {
      env: { DATA_SOURCE_NAME: `dds:ddspass@(127.0.0.1:${db.port})/` },
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/metrics`);
      const theirsText = (await get(`http://127.0.0.1:${port}/metrics`)).body;
      const oursText = (await get(`${compat.url}/metrics`)).body;
      const ours = families(oursText);
      const compared = [...families(theirsText)].filter(([n]) =>
        /^mysql_(global_status_|global_variables_|slave_status_|up$|version_info$)/.test(n),
      );
      expect(compared.length).toBeGreaterThan(500);
      expect(compared.filter(([n]) => n.startsWith('mysql_slave_status_')).length).toBeGreaterThan(20);
      const differ: string[] = [];
      for (const [name, type] of compared) {
        if (ours.get(name) !== type) differ.push(`${name} ${type} (ours: ${ours.get(name) ?? 'absent'})`);
        else if (labelNames(oursText, name).join() !== labelNames(theirsText, name).join())
          differ.push(`${name} labels`);
      }
      expect(differ).toEqual([]);
    } finally {
      await peer.kill();
    }
  });

  it('closes its connections politely: scrapes do not raise Aborted_clients', async () => {
    const aborted = async () =>
      Number(
        /^mysql_global_status_aborted_clients (\d+)$/m.exec((await get(`${compat.url}/metrics`)).body)?.[1],
      );
    const before = await aborted();
    for (let i = 0; i < 5; i++) await get(`${compat.url}/metrics`);
    expect(await aborted()).toBe(before);
  });

  it('strict mode passes promtool check metrics with no findings', async () => {
    const s = await get(`${strict.url}/metrics`);
    expect(s.body).toMatch(/^mysql_up 1$/m);
    expect(await promtool(s.body)).toEqual({ code: 0, findings: '' });
  });

  it('bad credentials: mysql_up 0 and an auth error in the log, the process keeps serving', async () => {
    const r = await get(
      `${compat.url}/probe?target=${encodeURIComponent(`mysql://dds:wrong@127.0.0.1:${db.port}`)}`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^mysql_up 0$/m);
    await compat.proc.waitFor(/"reason":"auth".*Access denied for user 'dds'/);
    expect(compat.proc.stdout()).not.toContain('wrong');
    const probe = await get(`${compat.url}/probe?target=127.0.0.1:${db.port}`);
    expect(probe.body).toMatch(/^mysql_up 1$/m);
  });

  it('mysql_up 0 when the server stops, never a 500', async () => {
    await db.stop();
    const r = await get(`${compat.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^mysql_up 0$/m);
    expect(r.body).toMatch(/^mysql_exporter_last_scrape_error 1$/m);
    await compat.proc.waitFor(/"source":"mysql".*"reason":"unreachable"/);
  });
});
