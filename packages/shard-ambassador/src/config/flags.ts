import { accessLogSettings } from '@dds/core/access-log/access-log-config';
import { zDuration } from '@dds/core/config/schemas';
import { flagsOf, setting } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';

const NC = 'nutcracker compatible';
const LIMITS = 'Limits';
const HOT = 'Hot keys';
const QUICK = 'Quick mode (no config file)';

/** Our settings; nutcracker's short options map onto the same names it uses. */
export const settings = {
  confFile: setting.cli({
    type: 'string',
    short: 'c',
    help: 'nutcracker.yaml (pools), watched and hot-reloaded',
    metavar: 'FILE',
    env: 'DDS_CONF_FILE',
    group: NC,
  }),
  testConf: setting.cli({
    type: 'boolean',
    short: 't',
    help: 'test the configuration for errors and exit (same as --check-config)',
    action: true,
    group: NC,
  }),
  verbose: setting.number({
    short: 'v',
    help: 'nutcracker log level 0..11; sets --log-level (<=3 error, 4 warn, 5-6 info, 7-8 debug, >=9 trace)',
    metavar: 'N',
    group: NC,
    schema: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(11))),
  }),
  output: setting.string({
    short: 'o',
    help: 'log file; logs go to stdout in containers, so this is accepted and only logged',
    metavar: 'FILE',
    group: NC,
    schema: z.optional(z.string()),
  }),
  statsPort: setting.number({
    short: 's',
    help: 'twemproxy JSON stats port (0 disables)',
    default: 22222,
    group: NC,
    schema: z.number().check(z.int(), z.minimum(0), z.maximum(65535)),
  }),
  statsAddr: setting.string({
    short: 'a',
    help: 'twemproxy JSON stats address',
    default: '0.0.0.0',
    group: NC,
    schema: z.string().check(z.minLength(1)),
  }),
  statsInterval: setting.number({
    short: 'i',
    help: 'stats aggregation interval in msec (stats are always live; kept for compatibility)',
    default: 30_000,
    group: NC,
    schema: z.number().check(z.int(), z.minimum(1)),
  }),
  pidFile: setting.string({
    short: 'p',
    help: 'write the process id to this file',
    group: NC,
    schema: z.optional(z.string()),
  }),
  mbufSize: setting.number({
    short: 'm',
    help: 'nutcracker buffer chunk size 512..16777216 (accepted; buffers size themselves)',
    default: 16_384,
    group: NC,
    schema: z.number().check(z.int(), z.minimum(512), z.maximum(16 * 1024 * 1024)),
  }),
  daemonize: setting.cli({
    type: 'boolean',
    short: 'd',
    help: 'refused: run in the foreground under your supervisor (Kubernetes, systemd)',
    refuse: 'daemonizing is not supported: dds-shard-ambassador runs in the foreground (drop -d)',
    action: true,
    group: NC,
  }),
  maxClients: setting.number({
    help: 'client connections over all pools; more are answered with an error and closed',
    default: 10_000,
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(1)),
  }),
  maxRequestSize: setting.number({
    help: 'largest request (bytes, all arguments or the value) a client may send; also the Redis bulk length limit',
    default: 64 * 1024 * 1024,
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(1024)),
  }),
  maxArrayLength: setting.number({
    help: 'most arguments in one RESP request (multibulk count), or keys in one memcache get',
    default: 1024 * 1024,
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(2)),
  }),
  maxPending: setting.number({
    help: 'requests in flight per client before its socket is paused',
    default: 4096,
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(1)),
  }),
  maxInputBuffer: setting.number({
    help: 'bytes of incomplete requests held over all clients; the client whose request would pass it is refused',
    default: 512 * 1024 * 1024,
    metavar: 'BYTES',
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(64 * 1024)),
  }),
  clientOutputHighWater: setting.number({
    help: 'queued reply bytes at which a client that does not read is no longer read from',
    default: 4 * 1024 * 1024,
    metavar: 'BYTES',
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(64 * 1024)),
  }),
  clientOutputLimit: setting.number({
    help: "queued reply bytes at which a client that does not read is closed (Redis's client-output-buffer-limit)",
    default: 128 * 1024 * 1024,
    metavar: 'BYTES',
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(1024 * 1024)),
  }),
  clientIdleTimeout: setting.duration({
    help: 'close a client that sent nothing and took none of its replies for this long (0 = never)',
    default: 600_000,
    group: LIMITS,
  }),
  redisMaxInline: setting.number({
    help: "longest inline (telnet) Redis command, as Redis's PROTO_INLINE_MAX_SIZE",
    default: 64 * 1024,
    metavar: 'BYTES',
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(1024)),
  }),
  memcacheMaxLine: setting.number({
    help: 'longest memcache command line other than get/gets/gat/gats (memcached closes at 2048)',
    default: 2048,
    metavar: 'BYTES',
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(256)),
  }),
  memcacheMaxKeyLength: setting.number({
    help: "longest memcache key (memcached's KEY_MAX_LENGTH)",
    default: 250,
    metavar: 'BYTES',
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(1), z.maximum(65_536)),
  }),
  memcacheMaxValue: setting.number({
    help: "largest memcache value (memcached's -I item size, 1m by default)",
    default: 1024 * 1024,
    metavar: 'BYTES',
    group: LIMITS,
    schema: z.number().check(z.int(), z.minimum(1)),
  }),
  hotkeys: {
    top: setting.number({
      help: 'how many hot keys to report (0 disables hot-key tracking)',
      default: 10,
      group: HOT,
      schema: z.number().check(z.int(), z.minimum(0), z.maximum(1000)),
    }),
    window: setting.duration({
      help: 'sliding window over which key request rates are counted',
      default: 60_000,
      group: HOT,
      schema: z.pipe(zDuration, z.number().check(z.minimum(1000, 'must be at least 1s'))),
    }),
    sample: setting.number({
      help: 'count one request in N (1 counts every request)',
      default: 8,
      group: HOT,
      schema: z.number().check(z.int(), z.minimum(1)),
    }),
    metricKeys: setting.string({
      help: 'key label of dds_shard_hot_key_requests_per_second: hash (keyed hash of the name), name (the key itself), off (no series)',
      default: 'hash',
      metavar: 'hash|name|off',
      group: HOT,
      schema: z.enum(['hash', 'name', 'off']),
    }),
  },
  quick: {
    redisServers: setting.list({
      flag: 'redis-servers',
      help: 'without a config file: redis shards host:port:weight [name], comma separated',
      default: [],
      group: QUICK,
    }),
    redisListen: setting.string({
      flag: 'redis-listen',
      help: 'without a config file: listen address of the redis pool',
      default: '127.0.0.1:6379',
      group: QUICK,
    }),
    memcacheServers: setting.list({
      flag: 'memcache-servers',
      help: 'without a config file: memcached shards host:port:weight [name]',
      default: [],
      group: QUICK,
    }),
    memcacheListen: setting.string({
      flag: 'memcache-listen',
      help: 'without a config file: listen address of the memcache pool',
      default: '127.0.0.1:11211',
      group: QUICK,
    }),
    httpServers: setting.list({
      flag: 'http-servers',
      help: 'without a config file: HTTP shards host:port:weight [name]',
      default: [],
      group: QUICK,
    }),
    httpListen: setting.string({
      flag: 'http-listen',
      help: 'without a config file: listen address of the HTTP pool',
      default: '0.0.0.0:8082',
      group: QUICK,
    }),
    httpShardKey: setting.string({
      flag: 'http-shard-key',
      help: 'without a config file: uri, path, header:NAME, cookie:NAME or query:NAME',
      default: 'uri',
      group: QUICK,
    }),
  },
  // per-request access records of the HTTP pools
  ...accessLogSettings,
};

/** Our flags; nutcracker's short options map onto the same names it uses. */
export const flags = flagsOf(settings);
