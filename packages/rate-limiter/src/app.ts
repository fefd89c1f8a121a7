import type { Duplex } from 'node:stream';
import { accessAttr } from '@dds/core/access-log/access-log';
import { redact } from '@dds/core/config/redact';
import { DdsError } from '@dds/core/errors';
import {
  createHttpProxy,
  type Decision,
  type HttpProxy,
  type HttpProxyPolicy,
  type PolicyBuild,
  type ProxyRoute,
} from '@dds/core/http/http-proxy';
import type { ProxyRequest, ProxyResponse } from '@dds/core/http/proxy-contract';
import { normalizeIp, type TrustedProxies } from '@dds/core/http/trusted-proxies';
import { refuseRestartOnly } from '@dds/core/lifecycle/restart-only';
import { redisTarget } from '@dds/core/redis/redis-target';
import type { ComponentContext, Instance } from '@dds/core/runner';
import { flagPolicyName, type RateLimiterConfig } from './config.js';
import { pushRateLimitHeaders } from './http/ratelimit-headers.js';
import { limitedAnswer, refuseUpgrade, unavailableAnswer } from './http/responses.js';
import { LocalLimiter } from './limiter/local-limiter.js';
import type { Limiter, Verdict } from './limiter/verdict.js';
import { LocalWindowCounter, type WindowCounter } from './limiter/window-counter.js';
import { LimiterMetrics } from './metrics.js';
import {
  type CompiledPolicy,
  collectChecks,
  compilePolicy,
  jwtHeadersFor,
  type PolicySkip,
} from './policy/compile.js';
import { JwtVerifier, jwtConfigured } from './policy/jwt-verifier.js';
import type { JwtPayload, KeyContext } from './policy/key-extractor.js';
import { redactPolicy } from './policy/redact-policy.js';
import type { PolicyConfig } from './policy/schema.js';
import type { RedisLimiter } from './redis/redis-limiter.js';
import type { RlsEndpoint } from './rls/rls-endpoint.js';

const REQUEST_EXTRA = Symbol('dds.ratelimit.request');
const RESPONSE_EXTRA = Symbol('dds.ratelimit.response');
const ACCESS = Symbol('dds.ratelimit.access');
type Tagged = ProxyRequest & {
  [REQUEST_EXTRA]?: string[];
  [RESPONSE_EXTRA]?: string[];
  [ACCESS]?: string;
};

/** Wall clock in milliseconds with sub-millisecond resolution. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/** The policies a config describes: the flags-only one (if --rate is set) first, then YAML. */
export function policiesOf(c: RateLimiterConfig): PolicyConfig[] {
  const fromFlags: PolicyConfig[] =
    c.rate === ''
      ? []
      : [
          {
            name: flagPolicyName(c),
            match: {},
            key: c.key,
            limits: [{ rate: c.rate, burst: c.burst, algorithm: c.algorithm }],
            overrides: [],
            allow: [],
            missingKey: 'skip',
            dryRun: false,
          },
        ];
  return [...fromFlags, ...c.policies];
}

/** Settings that need a restart: a reload changing one is rejected. */
const RESTART_ONLY = [
  'listen',
  'redis',
  'redisCluster',
  'redisSentinel',
  'redisSentinelMaster',
  'redisUsername',
  'redisPassword',
  'redisPasswordFile',
  'redisTlsCaFile',
  'redisTlsCertFile',
  'redisTlsKeyFile',
  'redisTlsSkipVerify',
  'redisPrefix',
  'failMode',
  'maxKeys',
  'rlsListen',
  'rlsAlgorithm',
  'rlsRedisPrefix',
] as const;

export async function createRateLimiter(
  ctx: ComponentContext<RateLimiterConfig>,
): Promise<Instance<RateLimiterConfig>> {
  const { logger } = ctx;
  const first = ctx.config;
  let redis: RedisLimiter | undefined;
  let local: LocalLimiter | undefined;
  const metrics = new LimiterMetrics(ctx.registry, {
    keys: () => (redis ?? local)!.keys(),
    evictions: () => local?.evictions() ?? 0,
    denyCacheHits: () => redis?.denyCache.hits ?? 0,
  });
  const target = redisTarget(first);
  if (target) {
    // loaded only in distributed mode: the Redis client library costs memory
    const { RedisLimiter } = await import('./redis/redis-limiter.js');
    redis = new RedisLimiter({
      target,
      prefix: first.redisPrefix,
      timeoutMs: first.redisTimeout,
      failMode: first.failMode,
      denyCacheMs: first.denyCache,
      logger,
      clock: wallClock,
      onLatency: (s) => metrics.redisLatency.observe(s),
      onError: () => metrics.redisErrors.inc(),
      onUnavailable: (mode) => (mode === 'open' ? metrics.failOpen : metrics.failClosed).inc(),
      onStateChange: (up) => {
        metrics.redisUp.set(up ? 1 : 0);
        rls?.healthChanged();
      },
    });
    metrics.redisUp.set(1);
  } else {
    local = new LocalLimiter(first.maxKeys, wallClock);
  }
  const limiter: Limiter = (redis ?? local)!;
  const httpEnabled = policiesOf(first).length > 0;
  const ready = (): true | string => redis?.readiness() ?? true;

  let rls: RlsEndpoint | undefined;
  if (first.rlsConfig) {
    const { RlsEndpoint } = await import('./rls/rls-endpoint.js');
    let rlsLocal: LocalLimiter | undefined;
    let windows: WindowCounter | undefined = redis;
    if (!redis) {
      // RLS limits keep their own local stores: a policy reload must not drop them
      rlsLocal = new LocalLimiter(first.maxKeys, wallClock);
      windows = new LocalWindowCounter(first.maxKeys, wallClock);
    }
    rls = new RlsEndpoint(first, {
      limiter: redis ?? rlsLocal!,
      windows: windows!,
      registry: ctx.registry,
      logger,
      clock: wallClock,
      ready: () => !ctx.lifecycle.draining && ready() === true,
    });
  }

  const onJwtReject = (reason: string) => metrics.jwtRejected.inc({ reason });
  const shared: Shared = { limiter, local, metrics };
  const proxy = await createHttpProxy<RateLimiterConfig, RatePolicy>({
    ctx,
    component: 'rate-limiter',
    restartOnly: RESTART_ONLY,
    onClientError: (kind) => metrics.clientErrors.inc({ kind }),
    policy: async (config, build) => {
      // a JWT key source's files are read now: an unusable one refuses the config
      const verifier = jwtConfigured(config.jwt)
        ? await JwtVerifier.create(config.jwt, onJwtReject, wallClock)
        : undefined;
      return new RatePolicy(config, build, verifier, shared);
    },
  });
  shared.proxy = proxy;
  proxy.policy.activate();

  return {
    async start() {
      if (redis && !(await redis.waitReady(Math.max(2000, first.redisTimeout))))
        logger.warn({ failMode: first.failMode }, 'redis not reachable yet: starting anyway');
      if (rls) await rls.start(first.rlsListen);
      if (!httpEnabled) return;
      await proxy.listen();
      logger.info(
        {
          listen: first.listen,
          upstream: first.upstream,
          mode: redis ? `redis (${target!.topology})` : 'local',
          policies: proxy.policy.policies.map((p) => p.name),
        },
        'rate limiter listening',
      );
    },
    ready,
    async reload(next, prev) {
      refuseRestartOnly(next, prev, RESTART_ONLY);
      if (policiesOf(next).length > 0 !== httpEnabled || (next.rlsConfig === '') !== (rls === undefined))
        throw new DdsError(
          'DDS_CONFIG_INVALID',
          'turning the HTTP listener (policies) or the RLS listener (rlsConfig) on or off needs a restart',
        );
      const rlsSettings = rls?.prepare(next); // an invalid descriptor file refuses the reload
      await proxy.reload(next, prev); // builds the policies (and the JWT verifier), then swaps
      if (rlsSettings) rls!.apply(rlsSettings);
      proxy.policy.activate();
      logger.info({ policies: proxy.policy.policies.map((p) => p.name) }, 'policies reloaded');
    },
    watchedFiles: (c) => [
      ...(rls ? rls.watched(c) : []),
      ...[c.jwt.jwksFile, c.jwt.secretFile].filter((f) => f !== ''),
    ],
    async drain(deadline) {
      await Promise.all([rls?.drain(deadline), proxy.drain(deadline)]);
      await limiter.close();
    },
    adminRoutes(app) {
      app.get('/ratelimit', async () => {
        const active = proxy.policy;
        return {
          mode: redis ? 'redis' : 'local',
          topology: target?.topology,
          redisUp: redis ? redis.up : undefined,
          dryRun: active.config.dryRun,
          policies: redact(policiesOf(active.config).map(redactPolicy)),
          jwt: active.verifier ? 'verified' : 'unverified',
          keys: Object.fromEntries(limiter.keys()),
          ...(rls
            ? {
                rls: {
                  listen: active.config.rlsListen,
                  algorithm: rls.service.settings.algorithm,
                  domains: [...rls.config.domains.keys()],
                  files: rls.config.files,
                },
              }
            : {}),
        };
      });
    },
  };
}

/** What the limiter keeps across configs. */
interface Shared {
  readonly limiter: Limiter;
  readonly local: LocalLimiter | undefined;
  readonly metrics: LimiterMetrics;
  proxy?: HttpProxy<RateLimiterConfig, RatePolicy>;
}

type Decided = Verdict | undefined;

/**
 * The filter of one config: the compiled policies decide each request (locally or through
 * Redis); an admitted request goes to the upstream, tagged with the shadow and RateLimit headers
 * its verdict calls for; a refused one is answered 429 (or 503 when Redis is unreachable and
 * --fail-mode is closed) with its access record.
 */
class RatePolicy implements HttpProxyPolicy {
  readonly policies: CompiledPolicy[];
  private readonly upstream: ProxyRoute;
  private readonly trusted: TrustedProxies;
  private readonly onSkip: (p: CompiledPolicy, why: PolicySkip) => void;

  constructor(
    readonly config: RateLimiterConfig,
    build: PolicyBuild,
    /** verifies the tokens of jwt: key parts; undefined: no key source, claims are decoded only */
    readonly verifier: JwtVerifier | undefined,
    private readonly shared: Shared,
  ) {
    const { metrics } = shared;
    this.policies = policiesOf(config).map(compilePolicy);
    this.trusted = build.trusted;
    this.onSkip = (p, why) => metrics.decision(p, p.name, '*', why);
    this.upstream = {
      upstream: build.upstream(config.upstream),
      hooks: build.hooks({
        strip: new Set([config.shadowHeader.toLowerCase()]),
        requestHeaders: (req) => (req as Tagged)[REQUEST_EXTRA],
        responseHeaders: (req) => (req as Tagged)[RESPONSE_EXTRA],
        onDone: (_req, status, _s, failure) => {
          if (failure !== 'client_abort') metrics.response(status); // an abort sent nothing
          if (failure) metrics.upstreamFailures.inc({ reason: failure });
        },
        accessAttributes: (req) => (req as Tagged)[ACCESS] ?? '',
      }),
    };
  }

  /** This policy serves now: local buckets of limits it no longer has are dropped. */
  activate(): void {
    this.shared.local?.retain(this.policies.flatMap((p) => [...p.limits, ...p.overrideLimits.flat()]));
  }

  route(req: ProxyRequest, res: ProxyResponse): Decision | Promise<Decision> {
    const v = this.decide(req);
    if (v instanceof Promise) {
      const started = performance.now();
      return v.then((x) => this.respond(req, res, x, started));
    }
    return this.respond(req, res, v, 0);
  }

  routeUpgrade(req: ProxyRequest, socket: Duplex): Decision | Promise<Decision> {
    const v = this.decide(req);
    return v instanceof Promise ? v.then((x) => this.tunnel(socket, x)) : this.tunnel(socket, v);
  }

  private tunnel(socket: Duplex, v: Decided): Decision {
    if (v === undefined) return this.upstream;
    this.count(v);
    if (!v.admitted) {
      refuseUpgrade(socket, v, this.config.headers !== 'off');
      return undefined;
    }
    const shadow = shadowNames(v);
    return shadow ? { ...this.upstream, tunnelHeaders: [this.config.shadowHeader, shadow] } : this.upstream;
  }

  private decide(req: ProxyRequest): Decided | Promise<Decided> {
    const peer = normalizeIp(req.socket.remoteAddress ?? '');
    const ip = this.trusted.empty ? peer : this.trusted.clientAddress(peer, req.headers['x-forwarded-for']);
    // tokens of the matching policies' jwt: parts are verified before any key is read
    const headers = this.verifier && jwtHeadersFor(this.policies, req);
    if (!headers) return this.decideWith(req, { ip });
    const claims = this.verifier!.verifyRequest(req, headers);
    if (claims instanceof Promise) return claims.then((c) => this.decideWith(req, withClaims(ip, c)));
    return this.decideWith(req, withClaims(ip, claims));
  }

  private decideWith(req: ProxyRequest, keyContext: KeyContext): Decided | Promise<Decided> {
    const checks = collectChecks(this.policies, req, keyContext, this.config.dryRun, this.onSkip);
    return checks.length === 0 ? undefined : this.shared.limiter.decide(checks);
  }

  private respond(req: ProxyRequest, res: ProxyResponse, v: Decided, started: number): Decision {
    if (v === undefined) return this.upstream;
    this.count(v);
    if (res.destroyed) return undefined;
    const proxy = this.shared.proxy!;
    if (proxy.accessLog.enabled) (req as Tagged)[ACCESS] = decisionAttributes(v);
    if (!v.admitted) {
      const a = v.unavailable ? unavailableAnswer() : limitedAnswer(v, this.config.headers !== 'off');
      this.shared.metrics.response(a.status);
      proxy.reply(req, res, a.status, a.headers, a.body, (req as Tagged)[ACCESS], started);
      return undefined;
    }
    const shadow = shadowNames(v);
    if (shadow) (req as Tagged)[REQUEST_EXTRA] = [this.config.shadowHeader, shadow];
    if (this.config.headers === 'all' && v.results.length) {
      const h: string[] = [];
      pushRateLimitHeaders(h, v.checks, v.results);
      (req as Tagged)[RESPONSE_EXTRA] = h;
    }
    return this.upstream;
  }

  private count(v: Verdict): void {
    for (let i = 0; i < v.checks.length; i++) {
      const c = v.checks[i]!;
      const r = v.results[i];
      const outcome =
        r === undefined
          ? 'unavailable'
          : !r.allowed
            ? c.enforced
              ? 'denied'
              : 'shadow_denied'
            : v.admitted
              ? 'allowed'
              : 'not_consumed';
      this.shared.metrics.decision(c.limit, c.policy.name, c.limit.name, outcome);
    }
  }
}

const withClaims = (ip: string, claims: Map<string, JwtPayload | undefined>): KeyContext => ({
  ip,
  claims: (h) => claims.get(h),
});

/**
 * The decision as access-record attributes: `dds.ratelimit.decision` (allowed, limited,
 * shadow_limited: admitted but over a dry-run limit, unavailable) and `dds.ratelimit.limits`,
 * the policy/limit pairs that refused.
 */
function decisionAttributes(v: Verdict): string {
  let refused: string | undefined;
  for (let i = 0; i < v.results.length; i++) {
    if (v.results[i]!.allowed) continue;
    const c = v.checks[i]!;
    const n = `${c.policy.name}/${c.limit.name}`;
    refused = refused === undefined ? n : `${refused}, ${n}`;
  }
  const decision = v.unavailable
    ? 'unavailable'
    : !v.admitted
      ? 'limited'
      : refused !== undefined
        ? 'shadow_limited'
        : 'allowed';
  return (
    accessAttr('dds.ratelimit.decision', decision) +
    (refused ? accessAttr('dds.ratelimit.limits', refused) : '')
  );
}

/** Names of dry-run limits this admitted request exceeded, for the shadow label. */
function shadowNames(v: Verdict): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < v.results.length; i++) {
    if (v.results[i]!.allowed || v.checks[i]!.enforced) continue;
    const n = v.checks[i]!.limit.name;
    out = out === undefined ? n : `${out}, ${n}`;
  }
  return out;
}
