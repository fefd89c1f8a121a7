import type { Logger } from '@dds/core/logger';
import { Redis } from 'ioredis';
import { DenyCache } from '../limiter/deny-cache.js';
import type { Limiter, LimitResult, Verdict } from '../limiter/verdict.js';
import type { Check } from '../policy/compile.js';
import { DECIDE_SCRIPT } from './decide-script.js';

export interface RedisLimiterOptions {
  url: string;
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
  checks: readonly Check[];
  keys: string[];
  now: number;
  resolve(v: Verdict): void;
}

/**
 * Limits shared by every replica. The decisions of one event-loop turn (every request parsed in
 * one I/O poll) go to Redis together as one EVALSHA of the decide script, which decides them in
 * order, each atomically; ioredis sends EVAL once per connection and EVALSHA after, re-sending on
 * NOSCRIPT, and auto-pipelining merges concurrent calls into one write. Keys already over their
 * limit are answered from a short local cache. Redis failures fail open or closed.
 */
export class RedisLimiter implements Limiter {
  readonly redis: Redis;
  readonly denyCache: DenyCache;
  private healthy = true;
  private readonly decideScript: DecideFn;
  private queue: Pending[] = [];
  private lastLogged = 0;
  private unlogged = 0;
  private downLogged = false;
  private scheduled = false;

  constructor(private readonly o: RedisLimiterOptions) {
    this.denyCache = new DenyCache(o.denyCacheMs);
    this.redis = new Redis(o.url, {
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: o.timeoutMs,
      connectTimeout: Math.max(1000, o.timeoutMs),
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    });
    this.redis.defineCommand('ddsDecide', { lua: DECIDE_SCRIPT });
    this.decideScript = (this.redis as unknown as { ddsDecide: DecideFn }).ddsDecide.bind(this.redis);
    this.redis.on('error', (err: Error) => this.markDown(err));
    this.redis.on('ready', () => this.markUp());
  }

  decide(checks: readonly Check[]): Verdict | Promise<Verdict> {
    if (checks.length === 0) return { admitted: true, checks, results: [], unavailable: false };
    const now = this.o.clock();
    const keys: string[] = new Array(checks.length);
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      const key = `${this.o.prefix}${c.limit.id}:${c.key}`;
      if (c.enforced) {
        const wait = this.denyCache.get(key, now);
        if (wait > 0) {
          const r: LimitResult = { allowed: false, remaining: 0, resetMs: wait, retryMs: wait };
          return { admitted: false, checks: [c], results: [r], unavailable: false };
        }
      }
      keys[i] = key;
    }
    return new Promise((resolve) => {
      this.queue.push({ checks, keys, now, resolve });
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

  /** One EVALSHA for every decision queued in this event-loop turn, in arrival order. */
  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    const keys: string[] = [];
    const args: string[] = [
      this.o.scriptClock ? String(this.o.scriptClock()) : '',
      '1',
      String(batch.length),
    ];
    for (const p of batch) {
      for (const k of p.keys) keys.push(k);
      args.push(String(p.checks.length));
      for (const c of p.checks)
        args.push(c.limit.redisArgs[0], c.limit.redisArgs[1], c.limit.redisArgs[2], c.enforced ? '1' : '0');
    }
    const started = performance.now();
    this.decideScript(keys.length, ...keys, ...args).then(
      (reply) => {
        this.o.onLatency?.((performance.now() - started) / 1000);
        this.markUp();
        let at = 0;
        for (const p of batch) {
          const admitted = reply[at++] === 1;
          const results: LimitResult[] = new Array(p.checks.length);
          for (let i = 0; i < p.checks.length; i++, at += 4) {
            const r: LimitResult = {
              allowed: reply[at] === 1,
              remaining: reply[at + 1]!,
              resetMs: reply[at + 2]!,
              retryMs: reply[at + 3]!,
            };
            results[i] = r;
            if (!r.allowed && p.checks[i]!.enforced) this.denyCache.add(p.keys[i]!, p.now, r.retryMs);
          }
          p.resolve({ admitted, checks: p.checks, results, unavailable: false });
        }
      },
      (err: Error) => {
        this.markDown(err);
        for (const p of batch) {
          this.o.onError?.();
          this.o.onUnavailable?.(this.o.failMode);
          p.resolve({
            admitted: this.o.failMode === 'open',
            checks: p.checks,
            results: [],
            unavailable: true,
          });
        }
      },
    );
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

  keys(): Map<string, number> {
    return new Map([['deny-cache', this.denyCache.size]]);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private markDown(err: Error): void {
    if (!this.healthy) return;
    this.healthy = false;
    this.o.onStateChange?.(false);
    // a Redis that flaps (timeouts under load) would log two lines per flap: a failure within a
    // second of the last logged line is logged only if it lasts a second (the metrics count
    // every one), and a recovery only if its failure was logged, so the last line matches the state
    this.downLogged = false;
    const wait = 1000 - (Date.now() - this.lastLogged);
    if (wait <= 0) {
      this.logDown(err);
      return;
    }
    this.unlogged++;
    setTimeout(() => {
      if (!this.healthy && !this.downLogged) this.logDown(err);
    }, wait).unref();
  }

  private logDown(err: Error): void {
    this.downLogged = true;
    this.lastLogged = Date.now();
    this.o.logger.error(
      { err: err.message, failMode: this.o.failMode, flapsNotLogged: this.unlogged },
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
