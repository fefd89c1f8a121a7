import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { AccessLog, accessAttr } from '@dds/core/access-log/access-log';
import type { AdminRoutes } from '@dds/core/admin/admin-router';
import { readSecretFile } from '@dds/core/config/secret-file';
import { DdsError } from '@dds/core/errors';
import { cookieValue } from '@dds/core/http/cookie';
import { httpLimitsOf, upstreamOptionsOf } from '@dds/core/http/proxy-config';
import type { ProxyRequest, ProxyResponse } from '@dds/core/http/proxy-contract';
import { type ProxyFailure, type ProxyHooks, proxyRequest } from '@dds/core/http/reverse-proxy';
import { createHttp1Server, type Http1Server } from '@dds/core/http/server/http1-server';
import { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { proxyUpgrade } from '@dds/core/http/upgrade-proxy';
import { createUpstream, type Upstream } from '@dds/core/http/upstream';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { Counter, METRIC_PREFIX } from '@dds/core/metrics';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
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

/**
 * The splitter: resolves the experiment by host and path prefix, hashes the user key once into
 * a bucket, looks the variant up in the experiment's bucket table and proxies to that variant's
 * keep-alive pool with core's proxyRequest. Per-variant hooks are built once per config, so the
 * hot path creates no closures. A reload swaps the routing snapshot; connections stay open.
 */
export class Splitter implements Instance<SplitterConfig> {
  private config: SplitterConfig;
  private plan!: Plan;
  private trusted: TrustedProxies;
  private readonly server: Http1Server;
  private readonly tracker: ConnectionTracker;
  private readonly pools = new Map<string, Upstream>();
  private readonly stats = new Map<string, VariantStats>();
  private timers: NodeJS.Timeout[] = [];
  private readonly clientErrors: Counter;
  private readonly unmatched: Counter;
  private readonly cookiesIssued: Counter;
  private readonly overrides: Counter;
  private readonly overridesRefused: Counter;
  private readonly accessLog: AccessLog;

  constructor(private readonly ctx: ComponentContext<SplitterConfig>) {
    this.config = ctx.config;
    this.trusted = new TrustedProxies(this.config.trustedProxies);
    const reg = [ctx.registry];
    const P = `${METRIC_PREFIX}experiment_`;
    this.clientErrors = new Counter({
      name: `${P}client_errors_total`,
      help: 'Requests refused before routing (malformed, smuggling, oversized head, timeout).',
      labelNames: ['kind'],
      registers: reg,
    });
    this.unmatched = new Counter({
      name: `${P}unmatched_requests_total`,
      help: 'Requests no experiment matched (sent to the default backend, or 404).',
      registers: reg,
    });
    this.cookiesIssued = new Counter({
      name: `${P}id_cookies_issued_total`,
      help: 'Generated id cookies issued to requests without a user key.',
      registers: reg,
    });
    this.overrides = new Counter({
      name: `${P}overrides_total`,
      help: 'Requests whose variant was forced by the override header or cookie.',
      registers: reg,
    });
    this.overridesRefused = new Counter({
      name: `${P}overrides_refused_total`,
      help: 'Override header or cookie values not honoured: unknown variant, or a missing or wrong signature.',
      registers: reg,
    });
    registerVariantMetrics(ctx.registry, () => this.stats.values());
    this.accessLog = new AccessLog({
      component: 'experiment-splitter',
      registry: ctx.registry,
      logger: ctx.logger,
    });
    this.accessLog.configure(this.config);
    this.server = createHttp1Server(this.config, this.handle, (kind) => this.clientErrors.inc({ kind }));
    this.server.on('upgrade', this.upgrade);
    this.tracker = new ConnectionTracker(this.server);
    this.apply(this.config);
  }

  async start(): Promise<void> {
    await listen(this.server, parseAddress(this.config.listen) as Address);
    const c = this.config;
    if ((c.overrideHeader !== 'off' || c.overrideCookie !== 'off') && c.overrideSecretFile === '')
      this.ctx.logger.warn(
        { overrideHeader: c.overrideHeader, overrideCookie: c.overrideCookie },
        'variant overrides are not signed: any client can choose its variant (set --override-secret-file)',
      );
  }

  /** The override secret is re-read when its file changes (a rotated Secret). */
  watchedFiles(c: SplitterConfig): string[] {
    return c.overrideSecretFile === '' ? [] : [c.overrideSecretFile];
  }

  reload(next: SplitterConfig, prev: SplitterConfig): void {
    if (next.listen !== prev.listen) throw new Error('listen cannot change on reload; restart instead');
    if (next.maxHeaderSize !== prev.maxHeaderSize)
      throw new Error('maxHeaderSize cannot change on reload; restart instead');
    const overrideSecret = overrideSecretOf(next); // may reject the reload: before any change
    this.accessLog.configure(next); // a destination that cannot be opened refuses the reload
    this.server.setLimits(httpLimitsOf(next));
    this.config = next;
    this.trusted = new TrustedProxies(next.trustedProxies);
    this.apply(next, overrideSecret);
  }

  async drain(deadline: number): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.tracker.drain(deadline);
    await Promise.all([...this.pools.values()].map((u) => u.close().catch(() => {})));
    await this.accessLog.close();
  }

  adminRoutes(app: AdminRoutes): void {
    app.get('/experiments', async () => experimentsView(this.plan));
    app.post<{ name: string }>('/experiments/:name/reset', async (req, reply) => {
      const exp = this.plan.experiments.find((e) => e.name === req.params.name);
      if (!exp) return reply.code(404).send({ error: `no experiment "${req.params.name}"` });
      exp.off.clear();
      exp.table = bucketTable(exp.buckets, exp.control.index, exp.off);
      for (const v of exp.variants) v.stats.window.clear();
      this.ctx.logger.info(
        { experiment: exp.name },
        'guard reset: variants back at their configured weights',
      );
      return { reset: exp.name };
    });
  }

  /** Builds and swaps in a new routing snapshot; pools no longer used close once idle. */
  private apply(c: SplitterConfig, overrideSecret = overrideSecretOf(c)): void {
    const poolKey = (url: string) =>
      `${url} ${c.upstreamConnections} ${c.connectTimeout} ${c.upstreamTimeout}`;
    const used = new Map<string, Upstream>();
    const plan = buildPlan(
      c,
      {
        upstream: (url) => {
          const k = poolKey(url);
          let u = used.get(k) ?? this.pools.get(k);
          if (!u) {
            u = createUpstream(url, { ...upstreamOptionsOf(c), bodyTimeout: c.upstreamTimeout });
          }
          used.set(k, u);
          return u;
        },
        stats: (e, v) => {
          const k = `${e}\0${v}`;
          const s = this.stats.get(k) ?? new VariantStats(e, v);
          this.stats.set(k, s);
          return s;
        },
        hooks: (v) => this.variantHooks(v),
        defaultHooks: () => ({
          ...this.forwardOptions(),
          draining: this.draining,
          accessLog: this.accessLog,
        }),
        idCookieSuffix: (cfg) => cookieSuffix(cfg.idCookie),
        overrideSecret,
      },
      this.plan,
    );
    for (const [k, u] of this.pools) if (!used.has(k)) void u.close().catch(() => {});
    this.pools.clear();
    for (const [k, u] of used) this.pools.set(k, u);
    this.plan = plan;
    for (const t of this.timers) clearInterval(t);
    this.timers = plan.experiments.map((e) => this.startClock(e));
  }

  private forwardOptions() {
    const strip = new Set<string>();
    for (const h of [this.config.variantHeader, this.config.experimentHeader])
      if (h !== 'off') strip.add(h.toLowerCase());
    return { trusted: this.trusted, proto: 'http' as const, forwarded: this.config.forwarded, strip };
  }

  private readonly draining = (): boolean => this.tracker.draining;

  /** The proxy hooks of one variant, built once per config: no closures per request. */
  private variantHooks(v: Variant): ProxyHooks {
    const res = v.responseHeaders;
    const stats = v.stats;
    const access = accessAttr('dds.experiment', v.experiment.name) + accessAttr('dds.variant', v.name);
    return {
      ...this.forwardOptions(),
      draining: this.draining,
      accessLog: this.accessLog,
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
    };
  }

  /** A variant's backend failed before answering: serve the request from control if allowed. */
  private fallBack(v: Variant, req: ProxyRequest, res: ProxyResponse, failure: ProxyFailure): boolean {
    const exp = v.experiment;
    if (!exp.fallback || v.isControl || hasBody(req) || this.plan.experiments.indexOf(exp) < 0) return false;
    if (failure === 'upstream_error' || failure === 'upstream_timeout') v.stats.failure(failure);
    v.stats.window.recordFailure();
    v.stats.fallbacks++;
    v.downUntil = Date.now() + this.config.fallbackCooldown;
    const control = exp.control;
    control.stats.requests++;
    proxyRequest(req, res, control.upstream, control.hooks);
    return true;
  }

  private readonly handle = (req: ProxyRequest, res: ProxyResponse): void => {
    const plan = this.plan;
    const exp = plan.router.match(req.headers.host, req.url!);
    if (exp === undefined) {
      this.unmatched.inc();
      if (plan.defaultRoute) {
        proxyRequest(req, res, plan.defaultRoute.upstream, plan.defaultRoute.hooks);
        return;
      }
      res.writeHead(404, ['content-type', 'text/plain', 'content-length', String(NO_MATCH.length)]);
      res.end(NO_MATCH);
      if (this.accessLog.enabled)
        this.accessLog.log(req, 404, 0, NO_MATCH.length, undefined, '', this.trusted);
      return;
    }
    let v = this.choose(req, exp, plan);
    if (v.downUntil !== 0) {
      if (Date.now() < v.downUntil) {
        v.stats.fallbacks++;
        v = exp.control;
      } else v.downUntil = 0;
    }
    v.stats.requests++;
    proxyRequest(req, res, v.upstream, v.hooks);
  };

  private readonly upgrade = (req: ProxyRequest, socket: Socket, head: Buffer): void => {
    const plan = this.plan;
    const exp = plan.router.match(req.headers.host, req.url!);
    if (exp === undefined) {
      this.unmatched.inc();
      if (plan.defaultRoute) {
        proxyUpgrade(req, socket, head, plan.defaultRoute.upstream, plan.defaultRoute.hooks);
        return;
      }
      socket.end(
        `HTTP/1.1 404 Not Found\r\ncontent-length: ${NO_MATCH.length}\r\nconnection: close\r\n\r\n${NO_MATCH}`,
      );
      return;
    }
    // an upgrade cannot carry a new cookie back, so a keyless one goes to control
    const v = this.choose(req, exp, plan, false);
    v.stats.requests++;
    proxyUpgrade(req, socket, head, v.upstream, v.hooks, v.requestHeaders);
  };

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
        this.cookiesIssued.inc();
      }
    }
    return exp.variants[exp.table[bucketOf(key, exp.seed)]!]!;
  }

  /** The variant an override value may force, counted either way. */
  private forced(exp: Experiment, value: string): Variant | undefined {
    const v = overrideTarget(value, exp.byName, exp.overrideSignatures);
    (v ? this.overrides : this.overridesRefused).inc();
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
      this.ctx.logger.warn(
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
