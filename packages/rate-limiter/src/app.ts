import type { Socket } from 'node:net';
import { AccessLog, accessAttr } from '@dds/core/access-log/access-log';
import { redact } from '@dds/core/config/redact';
import { DdsError } from '@dds/core/errors';
import { httpLimitsOf, upstreamOptionsOf } from '@dds/core/http/proxy-config';
import type { ProxyRequest, ProxyResponse } from '@dds/core/http/proxy-contract';
import { type ProxyHooks, proxyRequest } from '@dds/core/http/reverse-proxy';
import { createHttp1Server } from '@dds/core/http/server/http1-server';
import { normalizeIp, TrustedProxies } from '@dds/core/http/trusted-proxies';
import { proxyUpgrade } from '@dds/core/http/upgrade-proxy';
import { createUpstream, type Upstream } from '@dds/core/http/upstream';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import { redisTarget } from '@dds/core/redis/redis-target';
import type { ComponentContext, Instance } from '@dds/core/runner';
import { flagPolicyName, type RateLimiterConfig } from './config.js';
import { pushRateLimitHeaders } from './http/ratelimit-headers.js';
import { refuseUpgrade, sendLimited, sendUnavailable } from './http/responses.js';
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

/** Settings read per request; swapped whole on reload so a request sees one consistent set. */
interface Active {
  config: RateLimiterConfig;
  policies: CompiledPolicy[];
  trusted: TrustedProxies;
  upstream: Upstream;
  hooks: ProxyHooks;
  /** verifies the tokens of jwt: key parts; undefined: no key source, claims are decoded only */
  verifier: JwtVerifier | undefined;
}

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
  const accessLog = new AccessLog({ component: 'rate-limiter', registry: ctx.registry, logger });
  accessLog.configure(first);

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

  const server = createHttp1Server(httpLimitsOf(first), handle, (kind) => metrics.clientErrors.inc({ kind }));
  const tracker = new ConnectionTracker(server);
  const onJwtReject = (reason: string) => metrics.jwtRejected.inc({ reason });
  let active = activate(first, undefined, await verifierFor(first));

  /** A verifier for the config's JWT key source (files read now); throws DdsError if unusable. */
  async function verifierFor(config: RateLimiterConfig): Promise<JwtVerifier | undefined> {
    return jwtConfigured(config.jwt) ? JwtVerifier.create(config.jwt, onJwtReject, wallClock) : undefined;
  }

  function activate(
    config: RateLimiterConfig,
    prev: Active | undefined,
    verifier: JwtVerifier | undefined,
  ): Active {
    const policies = policiesOf(config).map(compilePolicy);
    local?.retain(policies.flatMap((p) => [...p.limits, ...p.overrideLimits.flat()]));
    const upstream =
      prev && prev.config.upstream === config.upstream && sameUpstreamOptions(prev.config, config)
        ? prev.upstream
        : createUpstream(config.upstream, upstreamOptionsOf(config));
    const hooks: ProxyHooks = {
      trusted: new TrustedProxies(config.trustedProxies),
      proto: 'http',
      forwarded: config.forwarded,
      strip: new Set([config.shadowHeader.toLowerCase()]),
      requestHeaders: (req) => (req as Tagged)[REQUEST_EXTRA],
      responseHeaders: (req) => (req as Tagged)[RESPONSE_EXTRA],
      onDone: (_req, status, _s, failure) => {
        if (failure !== 'client_abort') metrics.response(status); // an abort sent nothing
        if (failure) metrics.upstreamFailures.inc({ reason: failure });
      },
      draining: () => tracker.draining,
      accessLog,
      accessAttributes: (req) => (req as Tagged)[ACCESS] ?? '',
    };
    return { config, policies, trusted: hooks.trusted, upstream, hooks, verifier };
  }

  const onSkip = (p: CompiledPolicy, why: PolicySkip) => metrics.decision(p, p.name, '*', why);

  type Decided = Verdict | undefined;

  function decideFor(req: ProxyRequest, a: Active): Decided | Promise<Decided> {
    const peer = normalizeIp(req.socket.remoteAddress ?? '');
    const ip = a.trusted.empty ? peer : a.trusted.clientAddress(peer, req.headers['x-forwarded-for']);
    // tokens of the matching policies' jwt: parts are verified before any key is read
    const headers = a.verifier && jwtHeadersFor(a.policies, req);
    if (!headers) return decideWith(req, a, { ip });
    const claims = a.verifier!.verifyRequest(req, headers);
    if (claims instanceof Promise) return claims.then((c) => decideWith(req, a, withClaims(ip, c)));
    return decideWith(req, a, withClaims(ip, claims));
  }

  const withClaims = (ip: string, claims: Map<string, JwtPayload | undefined>): KeyContext => ({
    ip,
    claims: (h) => claims.get(h),
  });

  function decideWith(req: ProxyRequest, a: Active, keyContext: KeyContext): Decided | Promise<Decided> {
    const checks = collectChecks(a.policies, req, keyContext, a.config.dryRun, onSkip);
    return checks.length === 0 ? undefined : limiter.decide(checks);
  }

  function handle(req: ProxyRequest, res: ProxyResponse): void {
    const a = active;
    const v = decideFor(req, a);
    if (v instanceof Promise) {
      const started = performance.now();
      v.then((x) => respond(req, res, a, x, started));
    } else respond(req, res, a, v, 0);
  }

  function respond(req: ProxyRequest, res: ProxyResponse, a: Active, v: Decided, started: number): void {
    if (v === undefined) {
      if (!res.destroyed) proxyRequest(req, res, a.upstream, a.hooks);
      return;
    }
    count(v);
    if (res.destroyed) return;
    const close = tracker.draining;
    if (accessLog.enabled) (req as Tagged)[ACCESS] = decisionAttributes(v);
    if (!v.admitted) {
      const status = v.unavailable ? 503 : 429;
      metrics.response(status);
      const bytes = v.unavailable
        ? sendUnavailable(res, close)
        : sendLimited(res, v, a.config.headers !== 'off', close);
      if (accessLog.enabled) {
        const seconds = started === 0 ? 0 : (performance.now() - started) / 1000;
        accessLog.log(req, status, seconds, bytes, undefined, (req as Tagged)[ACCESS], a.trusted);
      }
      return;
    }
    const shadow = shadowNames(v);
    if (shadow) (req as Tagged)[REQUEST_EXTRA] = [a.config.shadowHeader, shadow];
    if (a.config.headers === 'all' && v.results.length) {
      const h: string[] = [];
      pushRateLimitHeaders(h, v.checks, v.results);
      (req as Tagged)[RESPONSE_EXTRA] = h;
    }
    proxyRequest(req, res, a.upstream, a.hooks);
  }

  function count(v: Verdict): void {
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
      metrics.decision(c.limit, c.policy.name, c.limit.name, outcome);
    }
  }

  server.on('upgrade', (req: ProxyRequest, socket: Socket, head: Buffer) => {
    const a = active;
    socket.on('error', () => socket.destroy());
    const go = (v: Verdict | undefined) => {
      if (v) count(v);
      if (v && !v.admitted) return refuseUpgrade(socket, v, a.config.headers !== 'off');
      const shadow = v && shadowNames(v);
      proxyUpgrade(
        req,
        socket,
        head,
        a.upstream,
        a.hooks,
        shadow ? [a.config.shadowHeader, shadow] : undefined,
      );
    };
    const v = decideFor(req, a);
    if (v instanceof Promise) v.then(go);
    else go(v);
  });

  return {
    async start() {
      if (redis && !(await redis.waitReady(Math.max(2000, first.redisTimeout))))
        logger.warn({ failMode: first.failMode }, 'redis not reachable yet: starting anyway');
      if (rls) await rls.start(first.rlsListen);
      if (!httpEnabled) return;
      await listen(server, parseAddress(first.listen) as Address);
      logger.info(
        {
          listen: first.listen,
          upstream: first.upstream,
          mode: redis ? `redis (${target!.topology})` : 'local',
          policies: active.policies.map((p) => p.name),
        },
        'rate limiter listening',
      );
    },
    ready,
    async reload(next, prev) {
      for (const f of RESTART_ONLY) {
        if (JSON.stringify(next[f]) !== JSON.stringify(prev[f]))
          throw new DdsError('DDS_CONFIG_INVALID', `${f} cannot change on reload (restart to apply it)`);
      }
      if (policiesOf(next).length > 0 !== httpEnabled || (next.rlsConfig === '') !== (rls === undefined))
        throw new DdsError(
          'DDS_CONFIG_INVALID',
          'turning the HTTP listener (policies) or the RLS listener (rlsConfig) on or off needs a restart',
        );
      const verifier = await verifierFor(next); // may reject the reload: before any change
      rls?.reload(next);
      accessLog.configure(next); // a destination that cannot be opened refuses the reload
      const before = active;
      server.setLimits(httpLimitsOf(next));
      active = activate(next, before, verifier);
      if (active.upstream !== before.upstream) void before.upstream.close();
      logger.info({ policies: active.policies.map((p) => p.name) }, 'policies reloaded');
    },
    watchedFiles: (c) => [
      ...(rls ? rls.watched(c) : []),
      ...[c.jwt.jwksFile, c.jwt.secretFile].filter((f) => f !== ''),
    ],
    async drain(deadline) {
      await Promise.all([rls?.drain(deadline), httpEnabled ? tracker.drain(deadline) : undefined]);
      await limiter.close();
      await active.upstream.close();
      await accessLog.close();
    },
    adminRoutes(app) {
      app.get('/ratelimit', async () => ({
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
      }));
    },
  };
}

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

function sameUpstreamOptions(a: RateLimiterConfig, b: RateLimiterConfig): boolean {
  return (
    a.upstreamConnections === b.upstreamConnections &&
    a.connectTimeout === b.connectTimeout &&
    a.upstreamTimeout === b.upstreamTimeout &&
    a.upstreamQueue === b.upstreamQueue &&
    a.upstreamQueueTimeout === b.upstreamQueueTimeout &&
    a.tunnelIdleTimeout === b.tunnelIdleTimeout
  );
}
