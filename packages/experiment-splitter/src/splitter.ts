import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { accessAttr } from '@dds/core/access-log/access-log';
import type { AdminRoutes } from '@dds/core/admin/admin-router';
import { readSecretFile } from '@dds/core/config/secret-file';
import { DdsError } from '@dds/core/errors';
import { cookieValue } from '@dds/core/http/cookie';
import {
  createHttpProxy,
  type Decision,
  type HttpProxy,
  type HttpProxyPolicy,
  type PolicyBuild,
  socketReply,
} from '@dds/core/http/http-proxy';
import type { ProxyRequest, ProxyResponse } from '@dds/core/http/proxy-contract';
import { type ProxyFailure, type ProxyHooks, proxyRequest } from '@dds/core/http/reverse-proxy';
import type { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { Counter, METRIC_PREFIX } from '@dds/core/metrics';
import type { ComponentContext, Instance } from '@dds/core/runner';
import { bucketOf, bucketTable } from './bucketing.js';
import { OVERRIDE_SECRET_MIN, type SplitterConfig } from './config.js';
import { experimentsView } from './experiments-view.js';
import { judge } from './guard.js';
import { cookieSuffix } from './id-cookie.js';
import { overrideTarget } from './override.js';
import { buildPlan, type Experiment, type Plan, type Variant } from './plan.js';
import { registerVariantMetrics } from './prometheus.js';
import { userKey } from './user-key.js';
import { VariantStats } from './variant-stats.js';

/** Set on a request that was issued a new id cookie; read by the response-headers hook. */
const SET_COOKIE = Symbol('dds.setCookie');
type Tagged = ProxyRequest & { [SET_COOKIE]?: string };

const NO_MATCH = 'no experiment matches this host and path\n';

/** What the splitter keeps across configs: metrics and per-variant statistics. */
interface Shared {
  readonly ctx: ComponentContext<SplitterConfig>;
  readonly stats: Map<string, VariantStats>;
  readonly unmatched: Counter;
  readonly cookiesIssued: Counter;
  readonly overrides: Counter;
  readonly overridesRefused: Counter;
  /** the proxy skeleton (set once it exists: the policy answers through it) */
  proxy?: HttpProxy<SplitterConfig, SplitPolicy>;
}

/**
 * The splitter on core's proxy skeleton (http-proxy.ts): the skeleton owns the listener,
 * upstreams, access log, drain and reload; a SplitPolicy is the filter of one config.
 */
export async function createSplitter(
  ctx: ComponentContext<SplitterConfig>,
): Promise<Instance<SplitterConfig>> {
  const reg = [ctx.registry];
  const P = `${METRIC_PREFIX}experiment_`;
  const clientErrors = new Counter({
    name: `${P}client_errors_total`,
    help: 'Requests refused before routing (malformed, smuggling, oversized head, timeout).',
    labelNames: ['kind'],
    registers: reg,
  });
  const shared: Shared = {
    ctx,
    stats: new Map(),
    unmatched: new Counter({
      name: `${P}unmatched_requests_total`,
      help: 'Requests no experiment matched (sent to the default backend, or 404).',
      registers: reg,
    }),
    cookiesIssued: new Counter({
      name: `${P}id_cookies_issued_total`,
      help: 'Generated id cookies issued to requests without a user key.',
      registers: reg,
    }),
    overrides: new Counter({
      name: `${P}overrides_total`,
      help: 'Requests whose variant was forced by the override header or cookie.',
      registers: reg,
    }),
    overridesRefused: new Counter({
      name: `${P}overrides_refused_total`,
      help: 'Override header or cookie values not honoured: unknown variant, or a missing or wrong signature.',
      registers: reg,
    }),
  };
  registerVariantMetrics(ctx.registry, () => shared.stats.values());
  const proxy = await createHttpProxy<SplitterConfig, SplitPolicy>({
    ctx,
    component: 'experiment-splitter',
    onClientError: (kind) => clientErrors.inc({ kind }),
    policy: (c, build, previous) => new SplitPolicy(c, build, previous, shared),
  });
  shared.proxy = proxy;
  return {
    async start() {
      await proxy.listen();
      const c = proxy.config;
      if ((c.overrideHeader !== 'off' || c.overrideCookie !== 'off') && c.overrideSecretFile === '')
        ctx.logger.warn(
          { overrideHeader: c.overrideHeader, overrideCookie: c.overrideCookie },
          'variant overrides are not signed: any client can choose its variant (set --override-secret-file)',
        );
    },
    /** The override secret is re-read when its file changes (a rotated Secret). */
    watchedFiles: (c) => (c.overrideSecretFile === '' ? [] : [c.overrideSecretFile]),
    reload: (next, prev) => proxy.reload(next, prev),
    drain: (deadline) => proxy.drain(deadline),
    adminRoutes: (app) => adminRoutes(app, proxy, ctx),
  };
}

function adminRoutes(
  app: AdminRoutes,
  proxy: HttpProxy<SplitterConfig, SplitPolicy>,
  ctx: ComponentContext<SplitterConfig>,
): void {
  app.get('/experiments', async () => experimentsView(proxy.policy.plan));
  app.post<{ name: string }>('/experiments/:name/reset', async (req, reply) => {
    const exp = proxy.policy.plan.experiments.find((e) => e.name === req.params.name);
    if (!exp) return reply.code(404).send({ error: `no experiment "${req.params.name}"` });
    exp.off.clear();
    exp.table = bucketTable(exp.buckets, exp.control.index, exp.off);
    for (const v of exp.variants) v.stats.window.clear();
    ctx.logger.info({ experiment: exp.name }, 'guard reset: variants back at their configured weights');
    return { reset: exp.name };
  });
}

/**
 * The filter of one config: resolves the experiment by host and path prefix, hashes the user
 * key once into a bucket, looks the variant up in the experiment's bucket table and routes to
 * that variant (a Variant is a ProxyRoute: its upstream and hooks, built once per config, so the
 * hot path creates no closures). It runs the experiments' guard clocks until replaced.
 */
class SplitPolicy implements HttpProxyPolicy {
  readonly plan: Plan;
  private readonly timers: NodeJS.Timeout[];
  private readonly trusted: TrustedProxies;

  constructor(
    private readonly config: SplitterConfig,
    build: PolicyBuild,
    previous: SplitPolicy | undefined,
    private readonly shared: Shared,
  ) {
    this.trusted = build.trusted;
    const overrideSecret = overrideSecretOf(config); // may refuse the config: before anything runs
    const strip = new Set<string>();
    for (const h of [config.variantHeader, config.experimentHeader])
      if (h !== 'off') strip.add(h.toLowerCase());
    const upstreamOptions = { ...build.upstreamOptions, bodyTimeout: config.upstreamTimeout };
    this.plan = buildPlan(
      config,
      {
        upstream: (url) => build.upstream(url, upstreamOptions),
        stats: (e, v) => {
          const k = `${e}\0${v}`;
          const st = shared.stats.get(k) ?? new VariantStats(e, v);
          shared.stats.set(k, st);
          return st;
        },
        hooks: (v) => this.variantHooks(v, build, strip),
        defaultHooks: () => build.hooks({ strip }),
        idCookieSuffix: (cfg) => cookieSuffix(cfg.idCookie),
        overrideSecret,
      },
      previous?.plan,
    );
    this.timers = this.plan.experiments.map((e) => this.startClock(e));
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** The proxy hooks of one variant, built once per config: no closures per request. */
  private variantHooks(v: Variant, build: PolicyBuild, strip: ReadonlySet<string>): ProxyHooks {
    const res = v.responseHeaders;
    const stats = v.stats;
    const access = accessAttr('dds.experiment', v.experiment.name) + accessAttr('dds.variant', v.name);
    return build.hooks({
      strip,
      accessAttributes: () => access,
      requestHeaders: () => v.requestHeaders,
      responseHeaders: (req) => {
        const cookie = (req as Tagged)[SET_COOKIE];
        if (cookie === undefined) return res;
        return res ? [...res, 'set-cookie', cookie] : ['set-cookie', cookie];
      },
      onDone: (_req, status, seconds, failure) => {
        if (failure === 'upstream_error' || failure === 'upstream_timeout') stats.failure(failure);
        stats.done(status, seconds, failure === 'client_abort');
      },
      onUpstreamFailure: (req, r, failure) => this.fallBack(v, req, r, failure),
    });
  }

  /** A variant's backend failed before answering: serve the request from control if allowed. */
  private fallBack(v: Variant, req: ProxyRequest, res: ProxyResponse, failure: ProxyFailure): boolean {
    const exp = v.experiment;
    if (!exp.fallback || v.isControl || hasBody(req) || this.shared.proxy?.policy !== this) return false;
    if (failure === 'upstream_error' || failure === 'upstream_timeout') v.stats.failure(failure);
    v.stats.window.recordFailure();
    v.stats.fallbacks++;
    v.downUntil = Date.now() + this.config.fallbackCooldown;
    const control = exp.control;
    control.stats.requests++;
    proxyRequest(req, res, control.upstream, control.hooks);
    return true;
  }

  route(req: ProxyRequest, res: ProxyResponse): Decision {
    const plan = this.plan;
    const exp = plan.router.match(req.headers.host, req.url);
    if (exp === undefined) {
      this.shared.unmatched.inc();
      if (plan.defaultRoute) return plan.defaultRoute;
      this.shared.proxy!.reply(req, res, 404, ['content-type', 'text/plain'], NO_MATCH);
      return undefined;
    }
    let v = this.choose(req, exp, plan);
    if (v.downUntil !== 0) {
      if (Date.now() < v.downUntil) {
        v.stats.fallbacks++;
        v = exp.control;
      } else v.downUntil = 0;
    }
    v.stats.requests++;
    return v;
  }

  routeUpgrade(req: ProxyRequest, socket: Duplex): Decision {
    const plan = this.plan;
    const exp = plan.router.match(req.headers.host, req.url);
    if (exp === undefined) {
      this.shared.unmatched.inc();
      if (plan.defaultRoute) return plan.defaultRoute;
      socketReply(socket, 404, [], NO_MATCH);
      return undefined;
    }
    // an upgrade cannot carry a new cookie back, so a keyless one goes to control
    const v = this.choose(req, exp, plan, false);
    v.stats.requests++;
    return v;
  }

  /** Override, else the user's bucket; a request without a key gets a new id (and cookie). */
  private choose(req: ProxyRequest, exp: Experiment, plan: Plan, canIssue = true): Variant {
    if (plan.overrideHeader !== undefined) {
      const o = req.headers[plan.overrideHeader];
      const v = typeof o === 'string' ? this.forced(exp, o) : undefined;
      if (v) return v;
    }
    if (plan.overrideCookie !== undefined && req.headers.cookie !== undefined) {
      const o = cookieValue(req.headers.cookie, plan.overrideCookie);
      const v = o === undefined ? undefined : this.forced(exp, o);
      if (v) return v;
    }
    let key = userKey(req, exp.key, this.trusted);
    if (key === undefined) {
      const id = plan.idCookie;
      if (id === undefined) return exp.control;
      if (exp.key.kind !== 'cookie' || exp.key.name !== id.name)
        key = cookieValue(req.headers.cookie, id.name);
      if (key === undefined) {
        if (!canIssue) return exp.control;
        key = randomUUID();
        (req as Tagged)[SET_COOKIE] = `${id.name}=${key}${id.suffix}`;
        this.shared.cookiesIssued.inc();
      }
    }
    return exp.variants[exp.table[bucketOf(key, exp.seed)]!]!;
  }

  /** The variant an override value may force, counted either way. */
  private forced(exp: Experiment, value: string): Variant | undefined {
    const v = overrideTarget(value, exp.byName, exp.overrideSignatures);
    (v ? this.shared.overrides : this.shared.overridesRefused).inc();
    return v;
  }

  /** Slides the experiment's windows and lets the guard judge each variant against control. */
  private startClock(exp: Experiment): NodeJS.Timeout {
    const slotMs = exp.guard.window / 10;
    const tickMs = Math.min(1000, slotMs);
    let elapsed = 0;
    const t = setInterval(() => {
      elapsed += tickMs;
      if (elapsed >= slotMs) {
        elapsed = 0;
        for (const v of exp.variants) v.stats.window.advance();
      }
      if (exp.guard.enabled) this.runGuard(exp);
    }, tickMs);
    t.unref();
    return t;
  }

  private runGuard(exp: Experiment): void {
    const control = exp.control.stats.window.summary();
    for (const v of exp.variants) {
      if (v.isControl || exp.off.has(v.index)) continue;
      const verdict = judge(v.stats.window.summary(), control, exp.guard);
      if (!verdict) continue;
      exp.off.add(v.index);
      exp.table = bucketTable(exp.buckets, exp.control.index, exp.off);
      v.stats.guardTrips++;
      this.shared.ctx.logger.warn(
        {
          experiment: exp.name,
          variant: v.name,
          reason: verdict.reason,
          variantValue: verdict.variant,
          controlValue: verdict.control,
        },
        `guard tripped: ${exp.name}/${v.name} is worse than control (${verdict.reason}); its traffic goes to control until reset or reload`,
      );
    }
  }
}

/** The override secret in effect; a file that cannot serve fails the start or the reload. */
function overrideSecretOf(c: SplitterConfig): string | undefined {
  if (c.overrideSecretFile === '') return undefined;
  const r = readSecretFile(c.overrideSecretFile, OVERRIDE_SECRET_MIN);
  if ('error' in r) throw new DdsError('DDS_CONFIG_INVALID', `overrideSecretFile: ${r.error}`);
  return r.secret;
}

function hasBody(req: ProxyRequest): boolean {
  const cl = req.headers['content-length'];
  return cl !== undefined ? cl !== '0' : req.headers['transfer-encoding'] !== undefined;
}
