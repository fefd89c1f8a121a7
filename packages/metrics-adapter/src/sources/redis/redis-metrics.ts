import type { MetricSet, MetricType } from '../../exposition/metric-set.js';
import type { Naming } from '../../exposition/naming.js';
import { sanitizeName, strictGenericName } from '../../exposition/naming.js';
import { parseNumber } from '../numeric.js';
import { type InfoField, parseSubFields } from './info-parser.js';
import type { RedisSnapshot } from './redis-client.js';

type Kind = 'gauge' | 'counter';

/** INFO field -> [compat name, compat type, strict name, strict type]; names without the `redis_` prefix. */
type Mapping = readonly [compat: string, type: Kind, strict?: string, strictType?: Kind];

const g = (name: string, strict?: string, strictType?: Kind): Mapping => [name, 'gauge', strict, strictType];
const c = (name: string, strict?: string): Mapping => [name, 'counter', strict];
/** a gauge in redis_exporter that is really a counter: strict mode types it properly */
const gc = (name: string, strict: string): Mapping => [name, 'gauge', strict, 'counter'];

/** The field maps of redis_exporter (Redis / Valkey fields; Tile38 and KeyDB extras left out). */
export const REDIS_FIELDS: ReadonlyMap<string, Mapping> = new Map<string, Mapping>([
  // Server
  ['uptime_in_seconds', g('uptime_in_seconds')],
  ['process_id', g('process_id')],
  // Clients
  ['connected_clients', g('connected_clients')],
  ['blocked_clients', g('blocked_clients')],
  ['tracking_clients', g('tracking_clients')],
  ['clients_in_timeout_table', g('clients_in_timeout_table')],
  ['io_threads_active', g('io_threads_active')],
  ['client_longest_output_list', g('client_longest_output_list')],
  ['client_biggest_input_buf', g('client_biggest_input_buf', 'client_biggest_input_buf_bytes')],
  ['client_recent_max_output_buffer', g('client_recent_max_output_buffer_bytes')],
  ['client_recent_max_input_buffer', g('client_recent_max_input_buffer_bytes')],
  // Memory
  ['allocator_active', g('allocator_active_bytes')],
  ['allocator_allocated', g('allocator_allocated_bytes')],
  ['allocator_resident', g('allocator_resident_bytes')],
  ['allocator_frag_ratio', g('allocator_frag_ratio')],
  ['allocator_frag_bytes', g('allocator_frag_bytes')],
  ['allocator_rss_ratio', g('allocator_rss_ratio')],
  ['allocator_rss_bytes', g('allocator_rss_bytes')],
  ['used_memory', g('memory_used_bytes')],
  ['used_memory_rss', g('memory_used_rss_bytes')],
  ['used_memory_peak', g('memory_used_peak_bytes')],
  ['used_memory_lua', g('memory_used_lua_bytes')],
  ['used_memory_vm_eval', g('memory_used_vm_eval_bytes')],
  ['used_memory_scripts_eval', g('memory_used_scripts_eval_bytes')],
  ['used_memory_overhead', g('memory_used_overhead_bytes')],
  ['used_memory_startup', g('memory_used_startup_bytes')],
  ['used_memory_dataset', g('memory_used_dataset_bytes')],
  ['used_memory_scripts', g('memory_used_scripts_bytes')],
  ['used_memory_vm_functions', g('memory_used_vm_functions_bytes')],
  ['used_memory_functions', g('memory_used_functions_bytes')],
  ['maxmemory', g('memory_max_bytes')],
  ['number_of_cached_scripts', g('number_of_cached_scripts')],
  ['mem_fragmentation_ratio', g('mem_fragmentation_ratio')],
  ['mem_fragmentation_bytes', g('mem_fragmentation_bytes')],
  ['mem_clients_slaves', g('mem_clients_slaves', 'mem_clients_slaves_bytes')],
  ['mem_clients_normal', g('mem_clients_normal', 'mem_clients_normal_bytes')],
  ['mem_not_counted_for_evict', g('mem_not_counted_for_eviction_bytes')],
  ['expired_stale_perc', g('expired_stale_percentage', 'expired_stale_ratio')],
  ['lazyfree_pending_objects', g('lazyfree_pending_objects')],
  ['active_defrag_running', g('active_defrag_running')],
  ['migrate_cached_sockets', g('migrate_cached_sockets_total', 'migrate_cached_sockets')],
  ['active_defrag_hits', gc('defrag_hits', 'defrag_hits_total')],
  ['active_defrag_misses', gc('defrag_misses', 'defrag_misses_total')],
  ['active_defrag_key_hits', gc('defrag_key_hits', 'defrag_key_hits_total')],
  ['active_defrag_key_misses', gc('defrag_key_misses', 'defrag_key_misses_total')],
  ['expired_time_cap_reached_count', gc('expired_time_cap_reached_total', 'expired_time_cap_reached_total')],
  // Persistence
  ['loading', g('loading_dump_file')],
  ['rdb_changes_since_last_save', g('rdb_changes_since_last_save')],
  ['rdb_bgsave_in_progress', g('rdb_bgsave_in_progress')],
  ['rdb_last_save_time', g('rdb_last_save_timestamp_seconds')],
  ['rdb_last_bgsave_status', g('rdb_last_bgsave_status')],
  ['rdb_last_bgsave_time_sec', g('rdb_last_bgsave_duration_sec', 'rdb_last_bgsave_duration_seconds')],
  [
    'rdb_current_bgsave_time_sec',
    g('rdb_current_bgsave_duration_sec', 'rdb_current_bgsave_duration_seconds'),
  ],
  ['rdb_last_cow_size', g('rdb_last_cow_size_bytes')],
  ['aof_enabled', g('aof_enabled')],
  ['aof_rewrite_in_progress', g('aof_rewrite_in_progress')],
  ['aof_rewrite_scheduled', g('aof_rewrite_scheduled')],
  ['aof_last_rewrite_time_sec', g('aof_last_rewrite_duration_sec', 'aof_last_rewrite_duration_seconds')],
  [
    'aof_current_rewrite_time_sec',
    g('aof_current_rewrite_duration_sec', 'aof_current_rewrite_duration_seconds'),
  ],
  ['aof_last_cow_size', g('aof_last_cow_size_bytes')],
  ['aof_current_size', g('aof_current_size_bytes')],
  ['aof_base_size', g('aof_base_size_bytes')],
  ['aof_pending_rewrite', g('aof_pending_rewrite')],
  ['aof_buffer_length', g('aof_buffer_length')],
  ['aof_rewrite_buffer_length', g('aof_rewrite_buffer_length')],
  ['aof_pending_bio_fsync', g('aof_pending_bio_fsync')],
  ['aof_delayed_fsync', g('aof_delayed_fsync')],
  ['aof_last_bgrewrite_status', g('aof_last_bgrewrite_status')],
  ['aof_last_write_status', g('aof_last_write_status')],
  ['module_fork_in_progress', g('module_fork_in_progress')],
  ['module_fork_last_cow_size', g('module_fork_last_cow_size', 'module_fork_last_cow_size_bytes')],
  // Stats
  ['pubsub_channels', g('pubsub_channels')],
  ['pubsub_patterns', g('pubsub_patterns')],
  ['pubsubshard_channels', g('pubsubshard_channels')],
  ['tracking_total_keys', g('tracking_total_keys')],
  ['tracking_total_items', g('tracking_total_items')],
  ['tracking_total_prefixes', g('tracking_total_prefixes')],
  ['latest_fork_usec', g('latest_fork_seconds')],
  ['total_connections_received', c('connections_received_total')],
  ['total_commands_processed', c('commands_processed_total')],
  ['rejected_connections', c('rejected_connections_total')],
  ['total_net_input_bytes', c('net_input_bytes_total')],
  ['total_net_output_bytes', c('net_output_bytes_total')],
  ['total_net_repl_input_bytes', c('net_repl_input_bytes_total')],
  ['total_net_repl_output_bytes', c('net_repl_output_bytes_total')],
  ['expired_keys', c('expired_keys_total')],
  ['evicted_keys', c('evicted_keys_total')],
  ['keyspace_hits', c('keyspace_hits_total')],
  ['keyspace_misses', c('keyspace_misses_total')],
  ['unexpected_error_replies', c('unexpected_error_replies', 'unexpected_error_replies_total')],
  ['total_error_replies', c('total_error_replies', 'error_replies_total')],
  ['total_reads_processed', c('total_reads_processed', 'reads_processed_total')],
  ['total_writes_processed', c('total_writes_processed', 'writes_processed_total')],
  ['io_threaded_reads_processed', c('io_threaded_reads_processed', 'io_threaded_reads_processed_total')],
  ['io_threaded_writes_processed', c('io_threaded_writes_processed', 'io_threaded_writes_processed_total')],
  ['dump_payload_sanitizations', c('dump_payload_sanitizations', 'dump_payload_sanitizations_total')],
  // CPU
  ['used_cpu_sys', c('cpu_sys_seconds_total')],
  ['used_cpu_user', c('cpu_user_seconds_total')],
  ['used_cpu_sys_children', c('cpu_sys_children_seconds_total')],
  ['used_cpu_user_children', c('cpu_user_children_seconds_total')],
  ['used_cpu_sys_main_thread', c('cpu_sys_main_thread_seconds_total')],
  ['used_cpu_user_main_thread', c('cpu_user_main_thread_seconds_total')],
  // Replication
  ['connected_slaves', g('connected_slaves')],
  ['repl_backlog_size', g('replication_backlog_bytes')],
  ['repl_backlog_active', g('repl_backlog_is_active')],
  ['repl_backlog_first_byte_offset', g('repl_backlog_first_byte_offset')],
  ['repl_backlog_histlen', g('repl_backlog_history_bytes')],
  ['master_repl_offset', g('master_repl_offset')],
  ['second_repl_offset', g('second_repl_offset')],
  ['slave_expires_tracked_keys', g('slave_expires_tracked_keys')],
  ['slave_priority', g('slave_priority')],
  ['sync_full', gc('replica_resyncs_full', 'replica_resyncs_full_total')],
  ['sync_partial_ok', gc('replica_partial_resync_accepted', 'replica_partial_resync_accepted_total')],
  ['sync_partial_err', gc('replica_partial_resync_denied', 'replica_partial_resync_denied_total')],
  // Cluster
  ['cluster_stats_messages_sent', g('cluster_messages_sent_total', 'cluster_messages_sent_total', 'counter')],
  [
    'cluster_stats_messages_received',
    g('cluster_messages_received_total', 'cluster_messages_received_total', 'counter'),
  ],
]);

/** Fields whose value needs a unit conversion besides the rename. */
const SCALE: ReadonlyMap<string, number> = new Map([
  ['latest_fork_usec', 1e-6],
  ['expired_stale_perc', 0.01],
]);
/** strict-only conversion (the compat name keeps the source unit) */
const STRICT_ONLY_SCALE = new Set(['expired_stale_perc']);

const RE_MASTER_HOST = /^master(_[0-9]+)?_host$/;
const RE_MASTER_PORT = /^master(_[0-9]+)?_port$/;
const RE_MASTER_LINK = /^master(_[0-9]+)?_link_status$/;
const RE_MASTER_DIRECT = /^(master(_[0-9]+)?_(last_io_seconds_ago|sync_in_progress)|slave_repl_offset)$/;
const RE_SLAVE = /^slave\d+$/;

/** INFO's textual values redis_exporter turns into numbers */
function infoValue(v: string): number | undefined {
  switch (v) {
    case 'ok':
    case 'true':
      return 1;
    case 'err':
    case 'fail':
    case 'false':
      return 0;
    default:
      return parseNumber(v);
  }
}

export interface RedisMappingStats {
  /** mapped fields whose value was not numeric */
  badValues: string[];
}

/**
 * Turns a parsed INFO ALL (+ CONFIG GET, SLOWLOG LEN) into metrics, redis_exporter style.
 * Unknown fields are skipped like redis_exporter does; garbage values are skipped and reported.
 */
export function redisMetrics(
  set: MetricSet,
  fields: readonly InfoField[],
  snapshot: Pick<RedisSnapshot, 'config' | 'slowlogLength' | 'slowlogLast'>,
  naming: Naming,
  ns = 'redis',
  now = Date.now(),
): RedisMappingStats {
  const strict = naming === 'strict';
  const badValues: string[] = [];
  const bad = (f: InfoField) => {
    if (badValues.length < 20) badValues.push(`${f.key}:${f.value.slice(0, 60)}`);
  };
  const name = (compat: string, strictName = compat) => `${ns}_${strict ? strictName : compat}`;
  const kv = new Map<string, string>();
  const cmdCalls = new Map<string, number>();
  const cmdUsec = new Map<string, number>();
  const latency: Array<[cmd: string, q: Array<[number, number]>]> = [];
  let masterHost = '';
  let masterPort = '';

  for (const f of fields) {
    const { section, key, value } = f;
    kv.set(key, value);
    if (RE_MASTER_HOST.test(key)) masterHost = value;
    if (RE_MASTER_PORT.test(key)) masterPort = value;

    switch (section) {
      case 'Replication': {
        if (RE_MASTER_LINK.test(key)) {
          set.gauge(name('master_link_up'), 'Master link status on Redis slave', value === 'up' ? 1 : 0, {
            master_host: masterHost,
            master_port: masterPort,
          });
          continue;
        }
        if (RE_MASTER_DIRECT.test(key)) {
          const metric = key.endsWith('last_io_seconds_ago')
            ? 'master_last_io_seconds_ago'
            : key.endsWith('sync_in_progress')
              ? 'master_sync_in_progress'
              : 'slave_repl_offset';
          const v = parseNumber(value);
          if (v === undefined) bad(f);
          else
            set.gauge(name(metric), `${metric} metric`, v, {
              master_host: masterHost,
              master_port: masterPort,
            });
          continue;
        }
        if (RE_SLAVE.test(key)) {
          const sub = parseSubFields(value);
          const offset = sub && parseNumber(sub.get('offset') ?? '');
          if (!sub || offset === undefined) {
            bad(f);
            continue;
          }
          const labels = {
            slave_ip: sub.get('ip') ?? '',
            slave_port: sub.get('port') ?? '',
            slave_state: sub.get('state') ?? '',
          };
          set.gauge(name('connected_slave_offset_bytes'), 'Offset of connected slave', offset, labels);
          const lag = sub.has('lag') ? parseNumber(sub.get('lag')!) : undefined;
          if (lag !== undefined)
            set.gauge(name('connected_slave_lag_seconds'), 'Lag of connected slave', lag, labels);
          continue;
        }
        break;
      }
      case 'Server':
        if (key === 'uptime_in_seconds') {
          const up = parseNumber(value);
          if (up !== undefined)
            set.gauge(
              name('start_time_seconds'),
              'Start time of the Redis instance since unix epoch in seconds.',
              Math.floor(now / 1000) - up,
            );
        } else if (key === 'hz' || key === 'configured_hz') {
          const hz = parseNumber(value);
          if (hz !== undefined) set.gauge(name(key, strict ? `${key}_hertz` : key), `${key} metric`, hz);
        }
        break;
      case 'Commandstats': {
        if (!key.startsWith('cmdstat_')) continue;
        const sub = parseSubFields(value);
        const calls = sub && parseNumber(sub.get('calls') ?? '');
        const usec = sub && parseNumber(sub.get('usec') ?? '');
        if (!sub || calls === undefined || usec === undefined) {
          bad(f);
          continue;
        }
        const cmd = key.slice(8);
        const labels = { cmd };
        cmdCalls.set(cmd, calls);
        cmdUsec.set(cmd, usec);
        set.counter(name('commands_total'), 'Total number of calls per command', calls, labels);
        set.counter(
          name('commands_duration_seconds_total'),
          'Total amount of time in seconds spent per command',
          usec / 1e6,
          labels,
        );
        const rejected = parseNumber(sub.get('rejected_calls') ?? '');
        const failed = parseNumber(sub.get('failed_calls') ?? '');
        if (rejected !== undefined && failed !== undefined) {
          set.counter(
            name('commands_rejected_calls_total'),
            'commands_rejected_calls_total metric',
            rejected,
            labels,
          );
          set.counter(
            name('commands_failed_calls_total'),
            'commands_failed_calls_total metric',
            failed,
            labels,
          );
        }
        continue;
      }
      case 'Latencystats': {
        if (!key.startsWith('latency_percentiles_usec_')) continue;
        const sub = parseSubFields(value);
        const qs: Array<[number, number]> = [];
        for (const [p, v] of sub ?? []) {
          const q = p.startsWith('p') ? parseNumber(p.slice(1)) : undefined;
          const n = parseNumber(v);
          if (q === undefined || n === undefined) {
            qs.length = 0;
            break;
          }
          qs.push([Number((q / 100).toPrecision(12)), n]);
        }
        if (qs.length) latency.push([key.slice(25), qs]);
        else bad(f);
        continue;
      }
      case 'Errorstats': {
        if (!key.startsWith('errorstat_')) continue;
        const count = parseNumber(parseSubFields(value)?.get('count') ?? '');
        if (count === undefined) bad(f);
        else
          set.counter(name('errors_total'), 'Total number of errors per error type', count, {
            err: key.slice(10),
          });
        continue;
      }
      case 'Keyspace': {
        if (!key.startsWith('db')) break;
        const sub = parseSubFields(value);
        const keys = sub && parseNumber(sub.get('keys') ?? '');
        const expires = sub && parseNumber(sub.get('expires') ?? '');
        if (!sub || keys === undefined || expires === undefined) {
          bad(f);
          continue;
        }
        const labels = { db: key };
        set.gauge(name('db_keys'), 'Total number of keys by DB', keys, labels);
        set.gauge(name('db_keys_expiring'), 'Total number of expiring keys by DB', expires, labels);
        const ttl = parseNumber(sub.get('avg_ttl') ?? '');
        if (ttl !== undefined)
          set.gauge(name('db_avg_ttl_seconds'), 'Avg TTL in seconds', ttl / 1000, labels);
        continue;
      }
    }

    const m = REDIS_FIELDS.get(key);
    const cluster = !m && key.startsWith('cluster_');
    if (!m && !cluster) continue;
    const v = infoValue(value);
    if (v === undefined) {
      bad(f);
      continue;
    }
    if (cluster) {
      const plain = `${ns}_${sanitizeName(key)}`;
      const [metric, scale] = strict ? strictGenericName(plain) : [plain, 1];
      set.gauge(metric, `${sanitizeName(key)} metric`, v * scale);
      continue;
    }
    const [compatName, compatType, strictName, strictType] = m!;
    const type: MetricType = strict ? (strictType ?? compatType) : compatType;
    const scale = SCALE.get(key);
    const value2 = scale !== undefined && (strict || !STRICT_ONLY_SCALE.has(key)) ? v * scale : v;
    const metric = name(compatName, strictName);
    set.add(metric, type as Kind, `${metric.slice(ns.length + 1)} metric`, value2);
  }

  for (const [cmd, qs] of latency) {
    const count = cmdCalls.get(cmd);
    const usec = cmdUsec.get(cmd);
    if (count === undefined || usec === undefined) continue;
    if (strict)
      set.summary(name('command_latency_seconds'), 'Command latency percentiles from LATENCYSTATS', {
        labels: { cmd },
        quantiles: qs.map(([q, v]) => [q, v / 1e6] as const),
        sum: usec / 1e6,
        count,
      });
    else
      set.summary(
        name('latency_percentiles_usec'),
        'A summary of latency percentile distribution per command',
        {
          labels: { cmd },
          quantiles: qs,
          sum: usec,
          count,
        },
      );
  }

  const maxmemory = parseNumber(snapshot.config.get('maxmemory') ?? '');
  if (maxmemory !== undefined)
    set.gauge(name('config_maxmemory', 'config_maxmemory_bytes'), 'config_maxmemory metric', maxmemory);
  const maxclients = parseNumber(snapshot.config.get('maxclients') ?? '');
  if (maxclients !== undefined) set.gauge(name('config_maxclients'), 'config_maxclients metric', maxclients);
  const ioThreads = parseNumber(snapshot.config.get('io-threads') ?? '');
  if (ioThreads !== undefined) set.gauge(name('config_io_threads'), 'config_io_threads metric', ioThreads);
  if (snapshot.slowlogLength !== undefined)
    set.gauge(name('slowlog_length'), 'Total slowlog', snapshot.slowlogLength);
  if (snapshot.slowlogLast) {
    set.gauge(name('slowlog_last_id'), 'Last id of slowlog', snapshot.slowlogLast.id);
    set.gauge(
      name('last_slow_execution_duration_seconds'),
      'The amount of time needed for last slow execution, in seconds',
      snapshot.slowlogLast.micros / 1e6,
    );
  }

  const role = kv.get('role') ?? '';
  set.gauge(name('instance_info'), 'Information about the Redis instance', 1, {
    role,
    redis_version: kv.get('redis_version') ?? '',
    redis_build_id: kv.get('redis_build_id') ?? '',
    redis_mode: kv.get('redis_mode') ?? kv.get('server_mode') ?? '',
    os: kv.get('os') ?? '',
    maxmemory_policy: kv.get('maxmemory_policy') ?? '',
    tcp_port: kv.get('tcp_port') ?? '',
    run_id: kv.get('run_id') ?? '',
    process_id: kv.get('process_id') ?? '',
    master_replid: kv.get('master_replid') ?? '',
  });
  if (role === 'slave')
    set.gauge(name('slave_info'), 'Information about the Redis slave', 1, {
      master_host: kv.get('master_host') ?? '',
      master_port: kv.get('master_port') ?? '',
      read_only: kv.get('slave_read_only') ?? '',
    });
  return { badValues };
}
