import type { Labels, MetricSet } from '../../exposition/metric-set.js';
import type { Naming } from '../../exposition/naming.js';
import { parseNumber } from '../numeric.js';
import type { MemcachedSnapshot } from './memcached-client.js';
import type { StatsBlock } from './stats-reader.js';

type Kind = 'gauge' | 'counter';
/** stat -> [name without `memcached_`, type, help, strict name] */
type Mapping = readonly [name: string, type: Kind, help: string, strict?: string];

/** memcached_exporter's names for `stats` (extstore and proxy stats included when present). */
const STATS: ReadonlyArray<readonly [string, Mapping]> = [
  [
    'uptime',
    ['uptime_seconds', 'counter', 'Number of seconds since the server started.', 'uptime_seconds_total'],
  ],
  ['time', ['time_seconds', 'gauge', 'current UNIX time according to the server.']],
  ['bytes', ['current_bytes', 'gauge', 'Current number of bytes used to store items.']],
  ['limit_maxbytes', ['limit_bytes', 'gauge', 'Number of bytes this server is allowed to use for storage.']],
  ['curr_items', ['current_items', 'gauge', 'Current number of items stored by this instance.']],
  [
    'total_items',
    ['items_total', 'counter', 'Total number of items stored during the life of this instance.'],
  ],
  ['bytes_read', ['read_bytes_total', 'counter', 'Total number of bytes read by this server from network.']],
  [
    'bytes_written',
    ['written_bytes_total', 'counter', 'Total number of bytes sent by this server to network.'],
  ],
  ['curr_connections', ['current_connections', 'gauge', 'Current number of open connections.']],
  [
    'total_connections',
    ['connections_total', 'counter', 'Total number of connections opened since the server started running.'],
  ],
  [
    'rejected_connections',
    [
      'connections_rejected_total',
      'counter',
      "Total number of connections rejected due to hitting the memcached's -c limit in maxconns_fast mode.",
    ],
  ],
  [
    'conn_yields',
    [
      'connections_yielded_total',
      'counter',
      "Total number of connections yielded running due to hitting the memcached's -R limit.",
    ],
  ],
  [
    'listen_disabled_num',
    [
      'connections_listener_disabled_total',
      'counter',
      'Number of times that memcached has hit its connections limit and disabled its listener.',
    ],
  ],
  [
    'evictions',
    [
      'items_evicted_total',
      'counter',
      'Total number of valid items removed from cache to free memory for new items.',
    ],
  ],
  [
    'reclaimed',
    [
      'items_reclaimed_total',
      'counter',
      'Total number of times an entry was stored using memory from an expired entry.',
    ],
  ],
  [
    'store_too_large',
    [
      'item_too_large_total',
      'counter',
      'The number of times an item exceeded the max-item-size when being stored.',
    ],
  ],
  [
    'store_no_memory',
    [
      'item_no_memory_total',
      'counter',
      'The number of times an item could not be stored due to no more memory.',
    ],
  ],
  ['lru_crawler_starts', ['lru_crawler_starts_total', 'counter', 'Times an LRU crawler was started.']],
  [
    'direct_reclaims',
    ['direct_reclaims_total', 'counter', 'Times worker threads had to directly reclaim or evict items.'],
  ],
  [
    'crawler_items_checked',
    ['lru_crawler_items_checked_total', 'counter', 'Total items examined by LRU Crawler.'],
  ],
  ['crawler_reclaimed', ['lru_crawler_reclaimed_total', 'counter', 'Total items freed by LRU Crawler.']],
  [
    'moves_to_cold',
    [
      'lru_crawler_moves_to_cold_total',
      'counter',
      "Total number of items moved from HOT/WARM to COLD LRU's.",
    ],
  ],
  [
    'moves_to_warm',
    ['lru_crawler_moves_to_warm_total', 'counter', 'Total number of items moved from COLD to WARM LRU.'],
  ],
  [
    'moves_within_lru',
    [
      'lru_crawler_moves_within_lru_total',
      'counter',
      "Total number of items reshuffled within HOT or WARM LRU's.",
    ],
  ],
  ['total_malloced', ['malloced_bytes', 'gauge', 'Number of bytes of memory allocated to slab pages.']],
  [
    'accepting_conns',
    ['accepting_connections', 'gauge', 'The Memcached server is currently accepting new connections.'],
  ],
];

/** `stats items` per-slab fields -> memcached_slab_* */
const ITEMS: ReadonlyArray<readonly [string, Mapping]> = [
  ['number', ['slab_current_items', 'gauge', 'Number of items currently stored in this slab class.']],
  [
    'age',
    ['slab_items_age_seconds', 'gauge', 'Number of seconds the oldest item has been in the slab class.'],
  ],
  [
    'crawler_reclaimed',
    ['slab_items_crawler_reclaimed_total', 'counter', 'Number of items freed by the LRU Crawler.'],
  ],
  [
    'evicted',
    [
      'slab_items_evicted_total',
      'counter',
      'Total number of times an item had to be evicted from the LRU before it expired.',
    ],
  ],
  [
    'evicted_nonzero',
    [
      'slab_items_evicted_nonzero_total',
      'counter',
      'Total number of times an item which had an explicit expire time set had to be evicted from the LRU before it expired.',
    ],
  ],
  [
    'evicted_time',
    [
      'slab_items_evicted_time_seconds',
      'counter',
      'Seconds since the last access for the most recent item evicted from this class.',
      'slab_items_evicted_time_seconds',
    ],
  ],
  [
    'evicted_unfetched',
    ['slab_items_evicted_unfetched_total', 'counter', 'Total nmber of items evicted and never fetched.'],
  ],
  [
    'expired_unfetched',
    [
      'slab_items_expired_unfetched_total',
      'counter',
      'Total number of valid items evicted from the LRU which were never touched after being set.',
    ],
  ],
  [
    'outofmemory',
    [
      'slab_items_outofmemory_total',
      'counter',
      'Total number of items for this slab class that have triggered an out of memory error.',
    ],
  ],
  ['reclaimed', ['slab_items_reclaimed_total', 'counter', 'Total number of items reclaimed.']],
  [
    'tailrepairs',
    [
      'slab_items_tailrepairs_total',
      'counter',
      'Total number of times the entries for a particular ID need repairing.',
    ],
  ],
  [
    'mem_requested',
    [
      'slab_mem_requested_bytes',
      'counter',
      'Number of bytes of memory actual items take up within a slab.',
      'slab_mem_requested_bytes',
    ],
  ],
  [
    'moves_to_cold',
    [
      'slab_items_moves_to_cold',
      'counter',
      'Number of items moved from HOT or WARM into COLD.',
      'slab_items_moves_to_cold_total',
    ],
  ],
  [
    'moves_to_warm',
    [
      'slab_items_moves_to_warm',
      'counter',
      'Number of items moves from COLD into WARM.',
      'slab_items_moves_to_warm_total',
    ],
  ],
  [
    'moves_within_lru',
    [
      'slab_items_moves_within_lru',
      'counter',
      'Number of times active items were bumped within HOT or WARM.',
      'slab_items_moves_within_lru_total',
    ],
  ],
  ['number_hot', ['slab_hot_items', 'gauge', 'Number of items presently stored in the HOT LRU.']],
  ['number_warm', ['slab_warm_items', 'gauge', 'Number of items presently stored in the WARM LRU.']],
  ['number_cold', ['slab_cold_items', 'gauge', 'Number of items presently stored in the COLD LRU.']],
  [
    'number_temp',
    ['slab_temporary_items', 'gauge', 'Number of items presently stored in the TEMPORARY LRU.'],
  ],
  ['age_hot', ['slab_hot_age_seconds', 'gauge', 'Age of the oldest item in HOT LRU.']],
  ['age_warm', ['slab_warm_age_seconds', 'gauge', 'Age of the oldest item in WARM LRU.']],
];
/** strict mode retypes these (memcached_exporter exports them as counters though they go down) */
const STRICT_GAUGES = new Set(['evicted_time', 'mem_requested']);

const SLAB_STATS: ReadonlyArray<readonly [string, string, string]> = [
  ['chunk_size', 'slab_chunk_size_bytes', 'Number of bytes allocated to each chunk within this slab class.'],
  ['chunks_per_page', 'slab_chunks_per_page', 'Number of chunks within a single page for this slab class.'],
  ['total_pages', 'slab_current_pages', 'Number of pages allocated to this slab class.'],
  ['total_chunks', 'slab_current_chunks', 'Number of chunks allocated to this slab class.'],
  ['used_chunks', 'slab_chunks_used', 'Number of chunks allocated to an item.'],
  ['free_chunks', 'slab_chunks_free', 'Number of chunks not yet allocated items.'],
  ['free_chunks_end', 'slab_chunks_free_end', 'Number of free chunks at the end of the last allocated page.'],
  [
    'mem_requested',
    'slab_mem_requested_bytes',
    'Number of bytes of memory actual items take up within a slab.',
  ],
];

const OPS = ['get', 'delete', 'incr', 'decr', 'cas', 'touch'] as const;

/** `stats slabs` per-slab command counters -> memcached_slab_commands_total{slab,command,status} */
const SLAB_COMMANDS: ReadonlyArray<readonly [string, string, string]> = [
  ['get_hits', 'get', 'hit'],
  ['cmd_set', 'set', 'hit'],
  ['delete_hits', 'delete', 'hit'],
  ['incr_hits', 'incr', 'hit'],
  ['decr_hits', 'decr', 'hit'],
  ['cas_hits', 'cas', 'hit'],
  ['cas_badval', 'cas', 'badval'],
  ['touch_hits', 'touch', 'hit'],
];

/** Groups `items:<slab>:<field>` / `<slab>:<field>` keys by slab id. */
function bySlab(block: StatsBlock, prefix: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [k, v] of block) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const colon = rest.indexOf(':');
    if (colon <= 0 || !/^\d+$/.test(rest.slice(0, colon))) continue;
    const slab = rest.slice(0, colon);
    const m = out.get(slab) ?? new Map<string, string>();
    out.set(slab, m);
    m.set(rest.slice(colon + 1), v);
  }
  return out;
}

/** Turns memcached stats into memcached_exporter's metrics; returns the stats whose value was not numeric. */
export function memcachedMetrics(
  set: MetricSet,
  snap: MemcachedSnapshot,
  naming: Naming,
  ns = 'memcached',
): string[] {
  const strict = naming === 'strict';
  const bad: string[] = [];
  const s = snap.stats;
  const num = (block: ReadonlyMap<string, string>, key: string): number | undefined => {
    const raw = block.get(key);
    if (raw === undefined) return undefined;
    const v = parseNumber(raw);
    if (v === undefined && bad.length < 20) bad.push(`${key}=${raw.slice(0, 60)}`);
    return v;
  };
  const emit = (m: Mapping, v: number | undefined, labels?: Labels, retypeGauge = false) => {
    if (v === undefined) return;
    const [name, type, help, strictName] = m;
    const t: Kind = strict && retypeGauge ? 'gauge' : type;
    set.add(`${ns}_${strict && strictName ? strictName : name}`, t, help, v, labels);
  };

  set.gauge(`${ns}_version`, 'The version of this memcached server.', 1, { version: s.get('version') ?? '' });
  const commands = `${ns}_commands_total`;
  const cmdHelp = 'Total number of all requests broken down by command (get, set, etc.) and status.';
  for (const op of OPS) {
    const hits = num(s, `${op}_hits`);
    const misses = num(s, `${op}_misses`);
    if (hits !== undefined) set.counter(commands, cmdHelp, hits, { command: op, status: 'hit' });
    if (misses !== undefined) set.counter(commands, cmdHelp, misses, { command: op, status: 'miss' });
  }
  const badval = num(s, 'cas_badval');
  if (badval !== undefined) set.counter(commands, cmdHelp, badval, { command: 'cas', status: 'badval' });
  const flush = num(s, 'cmd_flush');
  if (flush !== undefined) set.counter(commands, cmdHelp, flush, { command: 'flush', status: 'hit' });
  // memcached counts cas operations in cmd_set as well
  const cmdSet = num(s, 'cmd_set');
  const cas = ['cas_misses', 'cas_hits', 'cas_badval'].map((k) => num(s, k));
  if (cmdSet !== undefined && cas.every((x) => x !== undefined)) {
    const casTotal = (cas as number[]).reduce((a, b) => a + b, 0);
    set.counter(commands, cmdHelp, cmdSet - casTotal, { command: 'set', status: 'hit' });
  }

  for (const [stat, m] of STATS) emit(m, num(s, stat));
  for (const [stat, name, help] of [
    ['rusage_user', 'process_user_cpu_seconds_total', 'Accumulated user time for this process.'],
    ['rusage_system', 'process_system_cpu_seconds_total', 'Accumulated system time for this process.'],
  ] as const) {
    // "seconds.microseconds" (older servers send "seconds:microseconds")
    const v = num(s, stat) ?? parseNumber((s.get(stat) ?? '').replace(':', '.'));
    if (v !== undefined) set.counter(`${ns}_${name}`, help, v);
  }

  const maxconns = snap.settings && num(snap.settings, 'maxconns');
  if (maxconns !== undefined)
    set.gauge(`${ns}_max_connections`, 'Maximum number of clients allowed.', maxconns);
  const st = snap.settings;
  if (st?.get('lru_crawler') === 'yes') {
    const bool = (k: string) => (st.has(k) ? (st.get(k) === 'yes' ? 1 : 0) : undefined);
    const lru = (name: string, help: string, v: number | undefined) => {
      if (v !== undefined) set.gauge(`${ns}_lru_crawler_${name}`, help, v);
    };
    lru('enabled', 'Whether the LRU crawler is enabled.', bool('lru_crawler'));
    lru('sleep', 'Microseconds to sleep between LRU crawls.', num(st, 'lru_crawler_sleep'));
    lru('to_crawl', 'Max items to crawl per slab per run.', num(st, 'lru_crawler_tocrawl'));
    lru('maintainer_thread', 'Split LRU mode and background threads.', bool('lru_maintainer_thread'));
    lru('hot_percent', 'Percent of slab memory reserved for HOT LRU.', num(st, 'hot_lru_pct'));
    lru('warm_percent', 'Percent of slab memory reserved for WARM LRU.', num(st, 'warm_lru_pct'));
    lru('hot_max_factor', 'Set idle age of HOT LRU to COLD age * this', num(st, 'hot_max_factor'));
    lru('warm_max_factor', 'Set idle age of WARM LRU to COLD age * this', num(st, 'warm_max_factor'));
  }

  if (snap.items) {
    for (const [slab, fields] of bySlab(snap.items, 'items:')) {
      const labels = { slab };
      for (const [field, m] of ITEMS) emit(m, num(fields, field), labels, STRICT_GAUGES.has(field));
      for (const lru of ['hot', 'warm', 'cold', 'temp'] as const) {
        const v = num(fields, `hits_to_${lru}`);
        if (v !== undefined)
          set.counter(`${ns}_slab_lru_hits_total`, 'Number of get_hits to the LRU.', v, {
            slab,
            lru: lru === 'temp' ? 'temporary' : lru,
          });
      }
    }
  }
  if (snap.slabs) {
    // `stats slabs` also carries total_malloced (not in `stats`), as memcached_exporter reads it
    const malloced = num(snap.slabs, 'total_malloced');
    if (malloced !== undefined)
      set.gauge(`${ns}_malloced_bytes`, 'Number of bytes of memory allocated to slab pages.', malloced);
    const slabCommands = `${ns}_slab_commands_total`;
    const slabCommandsHelp =
      'Total number of all requests broken down by command (get, set, etc.) and status per slab.';
    for (const [slab, fields] of bySlab(snap.slabs, '')) {
      for (const [field, name, help] of SLAB_STATS) {
        const v = num(fields, field);
        if (v !== undefined) set.gauge(`${ns}_${name}`, help, v, { slab });
      }
      for (const [field, command, status] of SLAB_COMMANDS) {
        const v = num(fields, field);
        if (v !== undefined) set.counter(slabCommands, slabCommandsHelp, v, { slab, command, status });
      }
    }
  }
  return bad;
}
