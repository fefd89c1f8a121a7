import type { Logger } from '@dds/core/logger';
import { redisKeySlot } from '@dds/core/redis/key-slot';
import { createRedisClient, type RedisClient } from '@dds/core/redis/redis-client';
import { type RedisFailure, redisFailure } from '@dds/core/redis/redis-failure';
import type { RedisTarget } from '@dds/core/redis/redis-target';
import { DenyCache } from '../limiter/deny-cache.js';
import type { LimitCheck, Limiter, LimitResult, Verdict } from '../limiter/verdict.js';
import type { WindowCounter, WindowHit } from '../limiter/window-counter.js';
import { DECIDE_SCRIPT } from './decide-script.js';

export interface RedisLimiterOptions {
  target: RedisTarget;
  prefix: string;
  /** a decision slower than this counts as a Redis failure */
  timeoutMs: number;
  failMode: 'open' | 'closed';
  denyCacheMs: number;
  logger: Logger;
  clock: () => number;
  /** fixed script clock in milliseconds, for tests; default Redis TIME */
  scriptClock?: () => number;
  onLatency?(seconds: number): void;
  onError?(): void;
  onUnavailable?(mode: 'open' | 'closed'): void;
  onStateChange?(up: boolean): void;
}

type DecideFn = (numKeys: number, ...args: string[]) => Promise<number[]>;

/** Most requests decided by one script call: bounds how long one call blocks Redis. */
const MAX_BATCH = 256;

interface Pending {
  checks: readonly LimitCheck[];
  keys: string[];
  cost: number;
  now: number;
  results: LimitResult[];
  /** parts (hash slots) still to answer */
  parts: number;
  admitted: boolean;
  failed: boolean;
  resolve(v: Verdict<LimitCheck>): void;
}

/** The checks of one request that live in one hash slot (all of them outside a Cluster). */
interface Part {
  p: Pending;
  /** indexes into p.checks */
  at: number[];
}

/**
 * The Redis key of a check: `<prefix>{<owner>:<key>}<limit>`. The hash tag holds the owner
 * (policy or RLS domain) and the key, so every limit of one key (per second and per hour, a
 * tier's overrides) lives in one Cluster hash slot and is decided in one atomic script call.
 */
export function redisKey(prefix: string, c: LimitCheck): string {
  const id = c.limit.id;
  const own = c.policy.name;
  const suffix = id.startsWith(own) ? id.slice(own.length) : `/${id}`;
  return `${prefix}{${own}:${c.key}}${suffix}`;
}

/**
 * Limits shared by every replica. The decisions of one event-loop turn (every request parsed in
 * one I/O poll) go to Redis together as one EVALSHA of the decide script, which decides them in
 * order, each atomically; ioredis sends EVAL once per connection and EVALSHA after, re-sending on
 * NOSCRIPT, and auto-pipelining merges concurrent calls into one write. In a Cluster the batch is
 * split per hash slot (a script's keys must share one), and a request whose limits span several
 * slots (several policies with different keys) is decided per slot. Keys already over their
 * limit are answered from a short local cache. Redis failures fail open or closed.
 */
export class RedisLimiter implements Limiter, WindowCounter {
  readonly redis: RedisClient;
  readonly denyCache: DenyCache;
  private readonly cluster: boolean;
  private healthy = true;
  private failure: RedisFailure | undefined;
  private readonly decideScript: DecideFn;
  private queue: Pending[] = [];
  private lastLogged = 0;
  private unlogged = 0;
  private downLogged = false;
  private scheduled = false;

  constructor(private readonly o: RedisLimiterOptions) {
    this.denyCache = new DenyCache(o.denyCacheMs);
    this.cluster = o.target.topology === 'cluster';
    this.redis = createRedisClient(o.target, {
      autoPipelining: true,
      offlineQueue: false,
      reconnect: true,
      commandTimeoutMs: o.timeoutMs,
      connectTimeoutMs: Math.max(1000, o.timeoutMs),
      connectionName: 'dds-rate-limiter',
    });
    this.redis.defineCommand('ddsDecide', { lua: DECIDE_SCRIPT });
    this.decideScript = (this.redis as unknown as { ddsDecide: DecideFn }).ddsDecide.bind(this.redis);
    this.redis.on('error', (err: Error) => this.markDown(err));
    // Cluster: a node's own errors (AUTH, TLS) come as 'node error'
    this.redis.on('node error', (err: Error) => this.markDown(err));
    this.redis.on('ready', () => this.markUp());
  }

  decide<C extends LimitCheck>(checks: readonly C[], cost = 1): Verdict<C> | Promise<Verdict<C>> {
    if (checks.length === 0) return { admitted: true, checks, results: [], unavailable: false };
    const now = this.o.clock();
    const keys: string[] = new Array(checks.length);
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      const key = redisKey(this.o.prefix, c);
      if (c.enforced && cost > 0) {
        const wait = this.denyCache.get(key, now);
        if (wait > 0) {
          const r: LimitResult = { allowed: false, remaining: 0, resetMs: wait, retryMs: wait };
          return { admitted: false, checks: [c], results: [r], unavailable: false };
        }
      }
      keys[i] = key;
    }
    return new Promise<Verdict<C>>((resolve) => {
      this.queue.push({
        checks,
        keys,
        cost,
        now,
        results: new Array(checks.length),
        parts: 0,
        admitted: true,
        failed: false,
        resolve: resolve as (v: Verdict<LimitCheck>) => void,
      });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushSoon);
      }
    });
  }

  private readonly flushSoon = () => {
    this.scheduled = false;
    if (this.queue.length) this.flush();
  };

  /** One EVALSHA per hash slot (one in all outside a Cluster) for the decisions of this turn. */
  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (!this.cluster) {
      const all: Part[] = batch.map((p) => {
        p.parts = 1;
        return { p, at: p.checks.map((_, i) => i) };
      });
      this.call(all);
      return;
    }
    const bySlot = new Map<number, Part[]>();
    for (const p of batch) {
      const mine = new Map<number, Part>();
      for (let i = 0; i < p.keys.length; i++) {
        const slot = redisKeySlot(p.keys[i]!);
        let part = mine.get(slot);
        if (part === undefined) {
          part = { p, at: [] };
          mine.set(slot, part);
          const list = bySlot.get(slot);
          if (list === undefined) bySlot.set(slot, [part]);
          else list.push(part);
        }
        part.at.push(i);
      }
      p.parts = mine.size;
    }
    for (const parts of bySlot.values()) this.call(parts);
  }

  private call(parts: Part[]): void {
    const keys: string[] = [];
    const args: string[] = [this.o.scriptClock ? String(this.o.scriptClock()) : '', String(parts.length)];
    for (const { p, at } of parts) {
      args.push(String(at.length), String(p.cost));
      for (const i of at) {
        const c = p.checks[i]!;
        keys.push(p.keys[i]!);
        args.push(c.limit.redisArgs[0], c.limit.redisArgs[1], c.limit.redisArgs[2], c.enforced ? '1' : '0');
      }
    }
    const started = performance.now();
    this.decideScript(keys.length, ...keys, ...args).then(
      (reply) => {
        this.o.onLatency?.((performance.now() - started) / 1000);
        this.markUp();
        let k = 0;
        for (const { p, at } of parts) {
          if (reply[k++] !== 1) p.admitted = false;
          for (const i of at) {
            const r: LimitResult = {
              allowed: reply[k] === 1,
              remaining: reply[k + 1]!,
              resetMs: reply[k + 2]!,
              retryMs: reply[k + 3]!,
            };
            k += 4;
            p.results[i] = r;
            if (!r.allowed && p.checks[i]!.enforced && p.cost > 0)
              this.denyCache.add(p.keys[i]!, p.now, r.retryMs);
          }
          this.settle(p);
        }
      },
      (err: Error) => {
        this.markDown(err);
        for (const { p } of parts) {
          p.failed = true;
          this.settle(p);
        }
      },
    );
  }

  /** Resolves a request once every part of it has answered. */
  private settle(p: Pending): void {
    if (--p.parts > 0) return;
    if (p.failed) {
      this.o.onError?.();
      this.o.onUnavailable?.(this.o.failMode);
      p.resolve({ admitted: this.o.failMode === 'open', checks: p.checks, results: [], unavailable: true });
      return;
    }
    p.resolve({ admitted: p.admitted, checks: p.checks, results: p.results, unavailable: false });
  }

  /**
   * Fixed windows as envoyproxy/ratelimit keeps them: INCRBY and EXPIRE per key (one key per
   * command, so any Cluster slot), merged into one write by auto-pipelining.
   */
  async increment(hits: readonly WindowHit[]): Promise<number[] | undefined> {
    const started = performance.now();
    try {
      const counts = await Promise.all(
        hits.map((h) => {
          const n = this.redis.incrby(h.key, h.hits);
          void this.redis.expire(h.key, h.ttlSec).catch(() => {});
          return n;
        }),
      );
      this.o.onLatency?.((performance.now() - started) / 1000);
      this.markUp();
      return counts;
    } catch (err) {
      this.markDown(err as Error);
      this.o.onError?.();
      return undefined;
    }
  }

  /** Resolves once connected, or after `ms` (then the fail mode applies until Redis is up). */
  waitReady(ms: number): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.redis.on('ready', onReady);
    });
  }

  get up(): boolean {
    return this.healthy;
  }

  /** The last failure while Redis is down (undefined while up). */
  get lastFailure(): RedisFailure | undefined {
    return this.healthy ? undefined : this.failure;
  }

  /**
   * Readiness: a setting that cannot work (wrong password, untrusted certificate, ACL denies the
   * script) is reported, whatever the fail mode; an outage only with --fail-mode closed (failing
   * open, the pod still serves).
   */
  readiness(): true | string {
    const f = this.lastFailure;
    if (f === undefined) return true;
    if (f.misconfigured) return `redis: ${f.message}`;
    if (this.o.failMode === 'closed') return `redis unavailable (failing closed): ${f.message}`;
    return true;
  }

  keys(): Map<string, number> {
    return new Map([['deny-cache', this.denyCache.size]]);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private markDown(err: Error): void {
    this.failure = redisFailure(err);
    if (!this.healthy) return;
    this.healthy = false;
    this.o.onStateChange?.(false);
    // a Redis that flaps (timeouts under load) would log two lines per flap: a failure within a
    // second of the last logged line is logged only if it lasts a second (the metrics count
    // every one), and a recovery only if its failure was logged, so the last line matches the state
    this.downLogged = false;
    const wait = 1000 - (Date.now() - this.lastLogged);
    if (wait <= 0) {
      this.logDown();
      return;
    }
    this.unlogged++;
    setTimeout(() => {
      if (!this.healthy && !this.downLogged) this.logDown();
    }, wait).unref();
  }

  private logDown(): void {
    this.downLogged = true;
    this.lastLogged = Date.now();
    const f = this.failure!;
    this.o.logger.error(
      { err: f.message, reason: f.reason, failMode: this.o.failMode, flapsNotLogged: this.unlogged },
      `redis unavailable: failing ${this.o.failMode} until it recovers`,
    );
    this.unlogged = 0;
  }

  private markUp(): void {
    if (this.healthy) return;
    this.healthy = true;
    this.o.onStateChange?.(true);
    if (!this.downLogged) return;
    this.lastLogged = Date.now();
    this.o.logger.info('redis recovered: shared limits enforced again');
  }
}
