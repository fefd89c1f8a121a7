import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricSet } from '../../exposition/metric-set.js';
import { render } from '../../exposition/text-format.js';
import { parseInfo } from './info-parser.js';
import { redisMetrics } from './redis-metrics.js';

const fixture = readFileSync(new URL('../../__fixtures__/redis-info.txt', import.meta.url), 'utf8');
const NOW = 1795880958_000;
const snapshot = {
  config: new Map([
    ['maxmemory', '0'],
    ['maxclients', '10000'],
  ]),
  slowlogLength: 0,
};

function build(naming: 'compat' | 'strict') {
  const set = new MetricSet();
  const stats = redisMetrics(set, parseInfo(fixture).fields, snapshot, naming, 'redis', NOW);
  return { set, stats, text: render(set, 'text') };
}

const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('redisMetrics on a real INFO ALL (compat: redis_exporter names)', () => {
  const { set, stats, text } = build('compat');

  it('maps nothing to bad values on a healthy server', () => {
    expect(stats.badValues).toEqual([]);
    expect(set.rejected).toBe(0);
  });

  it('exports the dashboard fields with redis_exporter names, types and values', () => {
    const expected = [
      '# TYPE redis_connected_clients gauge',
      'redis_connected_clients 1',
      '# TYPE redis_memory_used_bytes gauge',
      '# TYPE redis_commands_processed_total counter',
      'redis_commands_processed_total 120',
      '# TYPE redis_keyspace_hits_total counter',
      'redis_keyspace_hits_total 30',
      'redis_keyspace_misses_total 30',
      'redis_config_maxclients 10000',
      'redis_config_maxmemory 0',
      'redis_uptime_in_seconds 5',
      'redis_start_time_seconds 1795880953',
      'redis_rdb_last_bgsave_status 1',
      'redis_cpu_sys_seconds_total 0.02533',
      'redis_memory_max_bytes 0',
    ];
    for (const l of expected) expect(text.split('\n')).toContain(l);
    const used = readFileSync(new URL('../../__fixtures__/redis-info.txt', import.meta.url), 'utf8').match(
      /^used_memory:(\d+)$/m,
    )![1];
    expect(text).toContain(`\nredis_memory_used_bytes ${used}\n`);
  });

  it('labels keyspace, command, error and latency families exactly', () => {
    expect(lines(text, 'redis_db_')).toEqual([
      'redis_db_keys{db="db0"} 54',
      'redis_db_keys{db="db1"} 1',
      'redis_db_keys_expiring{db="db0"} 2',
      'redis_db_keys_expiring{db="db1"} 0',
      'redis_db_avg_ttl_seconds{db="db0"} 5399.95',
      'redis_db_avg_ttl_seconds{db="db1"} 0',
    ]);
    expect(lines(text, 'redis_commands_total')).toEqual([
      'redis_commands_total{cmd="ping"} 1',
      'redis_commands_total{cmd="command|docs"} 2',
      'redis_commands_total{cmd="set"} 53',
      'redis_commands_total{cmd="get"} 60',
      'redis_commands_total{cmd="lpush"} 1',
      'redis_commands_total{cmd="incr"} 2',
      'redis_commands_total{cmd="select"} 1',
    ]);
    expect(text).toContain(
      '# TYPE redis_commands_duration_seconds_total counter\nredis_commands_duration_seconds_total{cmd="ping"} 0.000017\n',
    );
    expect(text).toContain('redis_commands_failed_calls_total{cmd="incr"} 1\n');
    expect(text).toContain('# TYPE redis_errors_total counter\nredis_errors_total{err="ERR"} 2\n');
    expect(text).toContain(
      '# TYPE redis_latency_percentiles_usec summary\nredis_latency_percentiles_usec{cmd="ping",quantile="0.5"} 17.023\nredis_latency_percentiles_usec{cmd="ping",quantile="0.99"} 17.023\nredis_latency_percentiles_usec{cmd="ping",quantile="0.999"} 17.023\nredis_latency_percentiles_usec_sum{cmd="ping"} 17\nredis_latency_percentiles_usec_count{cmd="ping"} 1\n',
    );
    expect(lines(text, 'redis_instance_info')).toEqual([
      'redis_instance_info{role="master",redis_version="7.0.15",redis_build_id="ae4d7c971a948f0",redis_mode="standalone",os="Linux 6.18.44-fc-v782 x86_64",maxmemory_policy="noeviction",tcp_port="6390",run_id="099deb83167129efe9d84ba4d840a96af1b36803",process_id="9296",master_replid="' +
        fixture.match(/^master_replid:(\w+)$/m)![1] +
        '"} 1',
    ]);
  });

  it('keeps the compat quirks (gauges named _total, _sec units)', () => {
    expect(text).toContain('# TYPE redis_rdb_last_bgsave_duration_sec gauge\n');
    expect(text).toContain('# TYPE redis_total_error_replies counter\n');
  });
});

describe('redisMetrics strict naming', () => {
  const { text } = build('strict');
  it('renames units and counters', () => {
    expect(text).toContain('# TYPE redis_rdb_last_bgsave_duration_seconds gauge\n');
    expect(text).toContain('# TYPE redis_error_replies_total counter\n');
    expect(text).toContain('# TYPE redis_replica_resyncs_full_total counter\n');
    expect(text).toContain('redis_command_latency_seconds{cmd="ping",quantile="0.5"} 0.000017023\n');
    expect(text).toContain('redis_command_latency_seconds_sum{cmd="ping"} 0.000017\n');
    expect(text).not.toContain('_sec ');
    // dashboard names that were already clean stay the same
    expect(text).toContain('redis_db_keys{db="db0"} 54\n');
    expect(text).toContain('redis_commands_total{cmd="get"} 60\n');
  });
});

describe('redisMetrics on bad input', () => {
  it('skips non-numeric and malformed values, reports them and keeps the rest', () => {
    const info = parseInfo(
      [
        '# Clients',
        'connected_clients:lots',
        'blocked_clients:2',
        '# Stats',
        'keyspace_hits:1e3',
        'keyspace_misses:0x10',
        '# Commandstats',
        'cmdstat_get:calls=abc,usec=1',
        'cmdstat_set:garbage',
        'cmdstat_del:calls=3,usec=30,usec_per_call=10.00',
        '# Keyspace',
        'db0:keys=,expires=0',
        'db1:keys=4,expires=1,avg_ttl=1000',
        'db1:keys=5,expires=1,avg_ttl=1000',
        '# Errorstats',
        'errorstat_ERR:count=x',
      ].join('\n'),
    );
    const set = new MetricSet();
    const { badValues } = redisMetrics(set, info.fields, { config: new Map() }, 'compat');
    expect(badValues).toEqual([
      'connected_clients:lots',
      'keyspace_misses:0x10',
      'cmdstat_get:calls=abc,usec=1',
      'cmdstat_set:garbage',
      'db0:keys=,expires=0',
      'errorstat_ERR:count=x',
    ]);
    expect(set.value('redis_blocked_clients')).toBe(2);
    expect(set.value('redis_keyspace_hits_total')).toBe(1000);
    expect(set.has('redis_connected_clients')).toBe(false);
    expect(set.value('redis_commands_total', { cmd: 'del' })).toBe(3);
    expect(set.value('redis_db_keys', { db: 'db1' })).toBe(4);
    expect(set.rejected).toBe(3); // the repeated db1 line: keys, expiring, ttl
  });

  it('never throws on random INFO-like input and always yields a valid exposition (property)', () => {
    const key = fc.oneof(
      fc.constantFrom(
        'connected_clients',
        'used_memory',
        'db0',
        'db15',
        'cmdstat_get',
        'errorstat_ERR',
        'latency_percentiles_usec_get',
        'slave0',
        'master_link_status',
        'role',
        'cluster_enabled',
        'rdb_last_bgsave_status',
      ),
      fc.stringMatching(/^[a-z_|0-9]{1,15}$/),
    );
    const section = fc.constantFrom(
      'Server',
      'Clients',
      'Stats',
      'Replication',
      'Commandstats',
      'Errorstats',
      'Latencystats',
      'Keyspace',
      'Weird',
    );
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        'keys=1,expires=0,avg_ttl=3',
        'calls=1,usec=2',
        'p50=1.0,p99=2',
        'ip=1.2.3.4,port=1,state=online,offset=5,lag=0',
        'ok',
        'up',
        'count=3',
      ),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(section, key, value), { maxLength: 30 }), (rows) => {
        const text = rows.map(([s, k, v]) => `# ${s}\n${k}:${v.replace(/[\r\n]/g, '')}`).join('\n');
        const set = new MetricSet();
        redisMetrics(set, parseInfo(text).fields, { config: new Map() }, 'compat');
        const out = render(set, 'text');
        for (const l of out.split('\n'))
          if (l && !l.startsWith('#')) expect(l).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$/);
      }),
      { numRuns: 500 },
    );
  });
});
