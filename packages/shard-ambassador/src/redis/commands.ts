import { CommandTable } from '../net/command-table.js';

/** How the proxy handles a command. */
export enum Route {
  /** one key, at argument 1 */
  Single = 1,
  /** MGET: split by shard, merge the arrays back in the client's key order */
  MultiGet,
  /** MSET: key/value pairs split by shard, +OK when every shard said OK */
  MultiSet,
  /** DEL, UNLINK, EXISTS, TOUCH: split by shard, integer replies summed */
  MultiCount,
  /** several keys that must all live on one shard (RENAME, SINTER, RPOPLPUSH ...) */
  SameShard,
  /** EVAL/EVALSHA: numkeys at argument 2, keys after it; all on one shard */
  Eval,
  /** ZUNIONSTORE-like: destination at 1, numkeys at 2, keys after it; all on one shard */
  StoreNumKeys,
  /** answered by the proxy itself */
  Local,
  /** cannot work through a sharding proxy */
  Refused,
}

export interface CommandSpec {
  route: Route;
  /** least number of arguments including the command name */
  minArgs: number;
  /** for Refused: why */
  why?: string;
  /** reads no write: may be served by a replica (pool `replicas:`) */
  read?: boolean;
}

const single = (min = 2): CommandSpec => ({ route: Route.Single, minArgs: min });

const SINGLE_KEY = [
  // strings
  'append bitcount bitfield bitfield_ro bitpos decr decrby get getbit getdel getex getrange getset incr',
  'incrby incrbyfloat psetex set setbit setex setnx setrange strlen substr lcs',
  // keys
  'dump expire expireat expiretime persist pexpire pexpireat pexpiretime pttl restore sort sort_ro ttl type',
  'object',
  // hashes
  'hdel hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield hscan hset hsetnx hstrlen hvals',
  // lists
  'lindex linsert llen lpop lpos lpush lpushx lrange lrem lset ltrim rpop rpush rpushx',
  // sets
  'sadd scard sismember smembers smismember spop srandmember srem sscan',
  // sorted sets
  'zadd zcard zcount zincrby zlexcount zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore',
  'zrank zrem zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebylex zrevrangebyscore',
  'zrevrank zscan zscore zrangestore',
  // hyperloglog, geo, streams
  'pfadd geoadd geodist geohash geopos georadius georadiusbymember geosearch geosearchstore',
  'xack xadd xautoclaim xclaim xdel xlen xpending xrange xrevrange xtrim xsetid xinfo',
]
  .join(' ')
  .split(/\s+/);

/** Single-key commands that only read: a replica may answer them. */
const READS = [
  'get getrange strlen substr getbit bitcount bitpos bitfield_ro lcs dump exists ttl pttl expiretime pexpiretime',
  'type sort_ro object hget hgetall hkeys hvals hlen hexists hmget hrandfield hscan hstrlen lindex llen lpos lrange',
  'scard smembers sismember smismember srandmember sscan zcard zcount zlexcount zmscore zrandmember zrange',
  'zrangebylex zrangebyscore zrank zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore geodist',
  'geohash geopos geosearch xlen xrange xrevrange xinfo',
]
  .join(' ')
  .split(/\s+/);

const SAME_SHARD_ALL = 'sdiff sdiffstore sinter sinterstore sunion sunionstore pfcount pfmerge';
const SAME_SHARD_TWO = 'rename renamenx rpoplpush smove lmove copy';

const refuse = (why: string): CommandSpec => ({ route: Route.Refused, minArgs: 1, why });
const CROSS = 'works on the whole keyspace, which is spread over several shards';

const TABLE = new CommandTable<CommandSpec>(true);
for (const c of SINGLE_KEY) TABLE.set(c, single());
// `object encoding key` and `xinfo stream key` carry their key at argument 2
TABLE.set('object', { route: Route.Single, minArgs: 3 });
TABLE.set('xinfo', { route: Route.Single, minArgs: 3 });
for (const c of READS) TABLE.set(c, { ...(TABLE.get(Buffer.from(c), 0, c.length) ?? single()), read: true });
for (const c of SAME_SHARD_ALL.split(' ')) TABLE.set(c, { route: Route.SameShard, minArgs: 2 });
for (const c of SAME_SHARD_TWO.split(' ')) TABLE.set(c, { route: Route.SameShard, minArgs: 3 });
TABLE.set('mget', { route: Route.MultiGet, minArgs: 2, read: true });
TABLE.set('mset', { route: Route.MultiSet, minArgs: 3 });
for (const c of ['del', 'unlink', 'exists', 'touch']) TABLE.set(c, { route: Route.MultiCount, minArgs: 2 });
TABLE.set('eval', { route: Route.Eval, minArgs: 3 });
TABLE.set('evalsha', { route: Route.Eval, minArgs: 3 });
TABLE.set('eval_ro', { route: Route.Eval, minArgs: 3 });
TABLE.set('evalsha_ro', { route: Route.Eval, minArgs: 3 });
for (const c of ['zunionstore', 'zinterstore', 'zdiffstore'])
  TABLE.set(c, { route: Route.StoreNumKeys, minArgs: 4 });
for (const c of ['ping', 'echo', 'quit', 'auth', 'select', 'info', 'command', 'client', 'hello']) {
  TABLE.set(c, { route: Route.Local, minArgs: 1 });
}
for (const c of ['keys', 'scan', 'randomkey', 'dbsize', 'flushdb', 'flushall', 'swapdb', 'move', 'migrate']) {
  TABLE.set(c, refuse(CROSS));
}
for (const c of ['multi', 'exec', 'discard', 'watch', 'unwatch']) {
  TABLE.set(c, refuse('transactions cannot span shards through the proxy; use EVAL with keys on one shard'));
}
for (const c of [
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'xread',
  'xreadgroup',
  'wait',
]) {
  TABLE.set(c, refuse('blocking commands would hold a shared server connection; use the non-blocking form'));
}
for (const c of [
  'subscribe',
  'psubscribe',
  'unsubscribe',
  'punsubscribe',
  'ssubscribe',
  'publish',
  'spublish',
  'pubsub',
]) {
  TABLE.set(c, refuse('pub/sub is not sharded by key; connect to a Redis server directly'));
}
for (const c of [
  'monitor',
  'config',
  'shutdown',
  'slaveof',
  'replicaof',
  'save',
  'bgsave',
  'bgrewriteaof',
  'debug',
  'cluster',
  'script',
  'function',
  'fcall',
  'slowlog',
  'lastsave',
  'role',
  'sync',
  'psync',
  'acl',
  'latency',
  'memory',
  'module',
  'time',
  'lolwut',
  'readonly',
  'readwrite',
  'reset',
  'failover',
  'object_freq',
]) {
  TABLE.set(c, refuse('is a server administration command; run it against each server directly'));
}

/** The spec of the command named buf[start, end) (any letter case), or undefined if unknown. */
export function lookupCommand(buf: Buffer, start: number, end: number): CommandSpec | undefined {
  return TABLE.get(buf, start, end);
}
