import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  freePort,
  run,
  type Service,
  start,
  startRedis,
  tempDir,
  waitForHttp,
  waitForPort,
} from '@dds/test-support';
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

const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OM_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

/** a fake "Redis" that answers with the given bytes (garbage, endless, nothing) */
async function fakeServer(
  answer: (socket: import('node:net').Socket) => void,
): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer((socket) => {
    socket.on('error', () => {});
    answer(socket);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, server };
}

describe('Redis source against a real redis-server', () => {
  let redis: Service;
  let secured: Service;
  let compat: Adapter;
  let strict: Adapter;
  const fakes: Server[] = [];

  beforeAll(async () => {
    [redis, secured] = await Promise.all([startRedis(), startRedis(['--requirepass', 's3cret'])]);
    const cli = (...a: string[]) => run('redis-cli', ['-p', String(redis.port), ...a]);
    for (let db = 0; db < 3; db++) {
      await cli('-n', String(db), 'SET', `k${db}`, 'v');
      await cli('-n', String(db), 'SET', `e${db}`, 'v', 'EX', '1000');
    }
    await cli('GET', 'k0');
    await cli('GET', 'missing');
    await cli('LPUSH', 'list', 'a');
    await cli('NOSUCHCOMMAND');
    [compat, strict] = await Promise.all([
      startAdapter('redis', ['--redis', `redis://127.0.0.1:${redis.port}`]),
      startAdapter('redis', ['--redis', `redis://127.0.0.1:${redis.port}`, '--naming', 'strict']),
    ]);
  });

  afterAll(async () => {
    for (const f of fakes) f.close();
    await Promise.all([compat?.stop(), strict?.stop(), redis?.stop(), secured?.stop()]);
  });

  it('serves redis_exporter names with the right types and labels, as Prometheus text', async () => {
    const r = await get(`${compat.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.type).toBe(TEXT);
    const t = r.body;
    expect(samples(t, 'redis_up')).toEqual(['redis_up 1']);
    expect(typeOf(t, 'redis_up')).toBe('gauge');
    expect(typeOf(t, 'redis_connected_clients')).toBe('gauge');
    expect(typeOf(t, 'redis_memory_used_bytes')).toBe('gauge');
    expect(typeOf(t, 'redis_commands_processed_total')).toBe('counter');
    expect(typeOf(t, 'redis_keyspace_hits_total')).toBe('counter');
    expect(typeOf(t, 'redis_keyspace_misses_total')).toBe('counter');
    expect(typeOf(t, 'redis_commands_total')).toBe('counter');
    expect(typeOf(t, 'redis_commands_duration_seconds_total')).toBe('counter');
    expect(typeOf(t, 'redis_db_keys')).toBe('gauge');
    expect(typeOf(t, 'redis_db_keys_expiring')).toBe('gauge');
    expect(samples(t, 'redis_db_keys')).toEqual([
      'redis_db_keys{db="db0"} 3',
      'redis_db_keys{db="db1"} 2',
      'redis_db_keys{db="db2"} 2',
    ]);
    expect(samples(t, 'redis_db_keys_expiring')).toEqual([
      'redis_db_keys_expiring{db="db0"} 1',
      'redis_db_keys_expiring{db="db1"} 1',
      'redis_db_keys_expiring{db="db2"} 1',
    ]);
    expect(t).toMatch(/^redis_commands_total\{cmd="get"\} 2$/m);
    expect(t).toMatch(/^redis_commands_total\{cmd="lpush"\} 1$/m);
    expect(t).toMatch(/^redis_commands_duration_seconds_total\{cmd="get"\} [\d.e-]+$/m);
    expect(t).toMatch(/^redis_keyspace_misses_total 1$/m);
    expect(t).toMatch(/^redis_errors_total\{err="ERR"\} 1$/m);
    expect(t).toMatch(/^redis_config_maxclients 10000$/m);
    expect(t).toMatch(/^redis_instance_info\{role="master",redis_version="[\d.]+",.*tcp_port="\d+".*\} 1$/m);
    expect(t).toMatch(/^redis_exporter_last_scrape_error\{err=""\} 0$/m);
  });

  it('matches the real redis_exporter (Debian prometheus-redis-exporter) family by family', async () => {
    const port = await freePort();
    const peer = start('prometheus-redis-exporter', [
      '-redis.addr',
      `redis://127.0.0.1:${redis.port}`,
      '-web.listen-address',
      `127.0.0.1:${port}`,
    ]);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/metrics`);
      const theirsText = (await get(`http://127.0.0.1:${port}/metrics`)).body;
      const oursText = (await get(`${compat.url}/metrics`)).body;
      const ours = families(oursText);
      // metrics about the exporter process itself (Go runtime, its own scrape counters)
      const own =
        /^(go_|process_|promhttp_|redis_exporter_(build_info|scrapes_total|scrape_duration_seconds|last_scrape_connect_time_seconds)|redis_target_scrape_request_errors_total|redis_last_key_groups_scrape_duration_milliseconds)/;
      const missing: string[] = [];
      for (const [name, type] of families(theirsText)) {
        if (own.test(name)) continue;
        if (ours.get(name) !== type) missing.push(`${name} ${type} (ours: ${ours.get(name) ?? 'absent'})`);
        // same labels; ours may add newer upstream ones (instance_info master_replid)
        else
          expect(labelNames(oursText, name), name).toEqual(
            expect.arrayContaining(labelNames(theirsText, name)),
          );
      }
      expect(missing).toEqual([]);
    } finally {
      await peer.kill();
    }
  });

  it('strict mode passes promtool check metrics with no findings (compat does not)', async () => {
    const s = await get(`${strict.url}/metrics`);
    expect(s.body).toMatch(/^redis_up 1$/m);
    expect(await promtool(s.body)).toEqual({ code: 0, findings: '' });
    const c = await get(`${compat.url}/metrics`);
    expect((await promtool(c.body)).findings).toMatch(
      /redis_rdb_last_bgsave_duration_sec metric names should not contain abbreviated units/,
    );
  });

  it('50 concurrent scrapes share one kept connection to the target and answer alike', async () => {
    const accepted = async () =>
      Number(
        /total_connections_received:(\d+)/.exec(
          (await run('redis-cli', ['-p', String(redis.port), 'INFO', 'stats'])).stdout,
        )![1],
      );
    await get(`${compat.url}/metrics`); // the kept connection exists (the start probe made it)
    const before = await accepted();
    const answers = await Promise.all(Array.from({ length: 50 }, () => get(`${compat.url}/metrics`)));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(samples(a.body, 'redis_up')).toEqual(['redis_up 1']);
    }
    // the only new connection is redis-cli's own INFO above
    expect((await accepted()) - before).toBe(1);
  });

  it('answers OpenMetrics when the scraper asks for it', async () => {
    const r = await get(`${compat.url}/metrics`, { accept: OM_ACCEPT });
    expect(r.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(r.body).toContain('# TYPE redis_commands counter\nredis_commands_total{cmd=');
    expect(r.body.endsWith('# EOF\n')).toBe(true);
  });

  it('scrapes other targets on /scrape?target= and rejects a bad target with 400', async () => {
    const r = await get(
      `${compat.url}/scrape?target=${encodeURIComponent(`redis://:s3cret@127.0.0.1:${secured.port}`)}`,
    );
    expect(r.body).toMatch(/^redis_up 1$/m);
    expect(r.body).not.toMatch(/db_keys\{db="db1"\}/);
    expect((await get(`${compat.url}/scrape?target=ftp://x`)).status).toBe(400);
    expect((await get(`${compat.url}/scrape`)).status).toBe(400);
    expect((await get(`${compat.url}/nope`)).status).toBe(404);
  });

  it('bad credentials and a missing password: up 0, the reason in the log and the admin metrics', async () => {
    const wrong = await get(
      `${compat.url}/scrape?target=${encodeURIComponent(`redis://:wrong@127.0.0.1:${secured.port}`)}`,
    );
    expect(wrong.status).toBe(200);
    expect(wrong.body).toMatch(/^redis_up 0$/m);
    expect(wrong.body).toMatch(
      /^redis_exporter_last_scrape_error\{err="authentication failed: WRONGPASS[^"]*"\} 1$/m,
    );
    const none = await get(`${compat.url}/scrape?target=127.0.0.1:${secured.port}`);
    expect(none.body).toMatch(/^redis_up 0$/m);
    expect(none.body).toMatch(/NOAUTH/);
    await compat.proc.waitFor(/"reason":"auth".*WRONGPASS/);
    const admin = await get(`${compat.admin}/metrics`);
    expect(admin.body).toMatch(/^dds_metrics_adapter_scrapes_total\{source="redis",result="auth"\} 2$/m);
    expect(compat.proc.stdout()).not.toContain('wrong@');
  });

  it('re-reads --redis-password-file on every scrape: a rotated secret applies without a restart', async () => {
    const file = join(tempDir('redis-pass'), 'password');
    writeFileSync(file, 'old-password\n');
    const a = await startAdapter('redis', [
      '--redis',
      `redis://127.0.0.1:${secured.port}`,
      '--redis-password-file',
      file,
    ]);
    try {
      expect((await get(`${a.url}/metrics`)).body).toMatch(/^redis_up 0$/m);
      writeFileSync(file, 's3cret\n');
      expect((await get(`${a.url}/metrics`)).body).toMatch(/^redis_up 1$/m);
      expect(a.proc.stdout()).not.toContain('old-password');
    } finally {
      await a.stop();
    }
  });

  it('garbage, endless and oversized replies: up 0 with a clear reason, the adapter keeps serving', async () => {
    const garbage = await fakeServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const silent = await fakeServer(() => {});
    // two 7 MiB bulk replies: each is allowed, together they pass the 8 MiB cap
    const huge = await fakeServer((s) => {
      const bulk = Buffer.concat([
        Buffer.from(`$${7 * 1024 * 1024}\r\n`),
        Buffer.alloc(7 * 1024 * 1024, 'x'),
        Buffer.from('\r\n'),
      ]);
      s.write(bulk);
      s.write(bulk);
    });
    fakes.push(garbage.server, silent.server, huge.server);
    const g = await get(`${compat.url}/scrape?target=127.0.0.1:${garbage.port}`);
    expect(g.body).toMatch(/^redis_up 0$/m);
    expect(g.body).toMatch(/malformed reply: Protocol error, got \\"H\\" as reply type byte/);
    const t0 = Date.now();
    const slow = await get(`${compat.url}/scrape?target=127.0.0.1:${silent.port}`, {
      'x-prometheus-scrape-timeout-seconds': '1',
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(slow.body).toMatch(/^redis_up 0$/m);
    expect(slow.body).toMatch(/no complete reply within 750ms/);
    const big = await get(`${compat.url}/scrape?target=127.0.0.1:${huge.port}`);
    expect(big.body).toMatch(/^redis_up 0$/m);
    expect(big.body).toMatch(/reply larger than 8388608 bytes; aborted/);
    expect((await get(`${compat.url}/metrics`)).body).toMatch(/^redis_up 1$/m);
  });

  it('replication: connected_slave_* on the master, master_link_up and slave_info on the replica', async () => {
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(redis.port)]);
    try {
      let master = '';
      for (let i = 0; i < 100; i++) {
        master = (await get(`${compat.url}/metrics`)).body;
        if (/slave_state="online"/.test(master)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(master).toMatch(/^redis_connected_slaves 1$/m);
      expect(master).toMatch(
        new RegExp(
          `^redis_connected_slave_offset_bytes\\{slave_ip="127.0.0.1",slave_port="${replica.port}",slave_state="online"\\} \\d+$`,
          'm',
        ),
      );
      expect(master).toMatch(
        /^redis_connected_slave_lag_seconds\{slave_ip="127.0.0.1",slave_port="\d+",slave_state="online"\} \d+$/m,
      );
      const r = (await get(`${compat.url}/scrape?target=127.0.0.1:${replica.port}`)).body;
      expect(r).toMatch(
        new RegExp(`^redis_master_link_up\\{master_host="127.0.0.1",master_port="${redis.port}"\\} 1$`, 'm'),
      );
      expect(r).toMatch(
        /^redis_master_last_io_seconds_ago\{master_host="127.0.0.1",master_port="\d+"\} \d+$/m,
      );
      expect(r).toMatch(/^redis_slave_repl_offset\{master_host="127.0.0.1",master_port="\d+"\} \d+$/m);
      expect(r).toMatch(
        new RegExp(
          `^redis_slave_info\\{master_host="127.0.0.1",master_port="${redis.port}",read_only="1"\\} 1$`,
          'm',
        ),
      );
      expect(r).toMatch(/^redis_instance_info\{role="slave",/m);
    } finally {
      await replica.stop();
    }
  });

  it('rediss:// targets: verified with --redis-tls-ca-file, refused without, accepted with --redis-tls-skip-verify', async () => {
    const dir = tempDir('redis-tls');
    const r = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    expect(r.code).toBe(0);
    const tlsPort = await freePort();
    const tlsRedis = start('redis-server', [
      '--port',
      '0',
      '--tls-port',
      String(tlsPort),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      join(dir, 'cert.pem'),
      '--tls-key-file',
      join(dir, 'key.pem'),
      '--tls-ca-cert-file',
      join(dir, 'cert.pem'),
      '--tls-auth-clients',
      'no',
      '--save',
      '',
      '--dir',
      dir,
    ]);
    const adapters: Adapter[] = [];
    try {
      await waitForPort(tlsPort);
      const url = `rediss://127.0.0.1:${tlsPort}`;
      adapters.push(
        await startAdapter('redis', ['--redis', url, '--redis-tls-ca-file', join(dir, 'cert.pem')]),
        await startAdapter('redis', ['--redis', url]),
        await startAdapter('redis', ['--redis', url, '--redis-tls-skip-verify']),
      );
      const [verified, refused, skipped] = await Promise.all(adapters.map((a) => get(`${a.url}/metrics`)));
      expect(verified!.body).toMatch(/^redis_up 1$/m);
      expect(verified!.body).toMatch(/^redis_instance_info\{/m);
      expect(refused!.body).toMatch(/^redis_up 0$/m);
      await adapters[1]!.proc.waitFor(/"reason":"tls".*self-signed certificate/);
      expect(skipped!.body).toMatch(/^redis_up 1$/m);
    } finally {
      await Promise.all(adapters.map((a) => a.stop()));
      await tlsRedis.kill();
    }
  });

  it('redis_up 0 (never a 500) once the target stops', async () => {
    const own = await startRedis();
    const a = await startAdapter('redis', ['--redis', `127.0.0.1:${own.port}`]);
    try {
      expect((await get(`${a.url}/metrics`)).body).toMatch(/^redis_up 1$/m);
      await own.stop();
      const r = await get(`${a.url}/metrics`);
      expect(r.status).toBe(200);
      expect(r.body).toMatch(/^redis_up 0$/m);
      expect(r.body).toMatch(/ECONNREFUSED/);
      await a.proc.waitFor(/"reason":"unreachable"/);
    } finally {
      await a.stop();
    }
  });
});
