import { STATUS_CODES } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AccessLog, type LoggedRequest } from '../access-log/access-log.js';
import type { AccessLogConfig } from '../access-log/access-log-config.js';
import { ConnectionTracker } from '../lifecycle/connection-tracker.js';
import { refuseRestartOnly } from '../lifecycle/restart-only.js';
import { type Address, parseAddress } from '../net/host-port.js';
import { listen } from '../net/listen.js';
import type { ComponentContext } from '../runner.js';
import type { ClientErrorKind } from './http-server.js';
import { type HttpProxyConfig, httpLimitsOf, upstreamOptionsOf } from './proxy-config.js';
import type { ProxyRequest, ProxyResponse } from './proxy-contract.js';
import { type ProxyHooks, proxyRequest } from './reverse-proxy.js';
import {
  http1Listener,
  type ListenerLimits,
  type ListenerOptions,
  type ProxyListener,
} from './server/listeners.js';
import { TrustedProxies } from './trusted-proxies.js';
import { proxyUpgrade } from './upgrade-proxy.js';
import type { Upstream, UpstreamOptions } from './upstream.js';
import { UpstreamSet } from './upstream-set.js';

/**
 * One skeleton for core's HTTP proxies, after Envoy's filter factory and filter. A component
 * gives a factory (`policy`) that turns a config into an HttpProxyPolicy: the filter, which
 * routes each request to an upstream with its hooks, or answers it itself. The skeleton owns
 * everything around it, the same for every component: the listener (core's lean HTTP/1.1
 * server, or one of server/listeners.ts: TLS by ALPN, h2c and HTTP/1.1) and its limits, upgrades, the connection tracker and drain, the access log, the
 * upstreams (reused across reloads when unchanged), the settings only a restart applies, and
 * reload as Caddy does it: build the new policy first (a failure leaves the old one serving),
 * then swap.
 */

/** Where one request goes: an upstream and the hooks the proxy runs for it (built once per config). */
export interface ProxyRoute {
  readonly upstream: Upstream;
  readonly hooks: ProxyHooks;
  /** headers an upgraded (tunnelled) request gets besides the forwarding ones */
  readonly tunnelHeaders?: readonly string[] | undefined;
}

/** A policy's decision: a route, or undefined when it answered the request itself. */
export type Decision = ProxyRoute | undefined;

/** The filter: made by the factory for one config, swapped whole on reload. */
export interface HttpProxyPolicy {
  /** Routes a request, or answers it (then undefined); a promise for a decision made elsewhere (Redis). */
  route(req: ProxyRequest, res: ProxyResponse): Decision | Promise<Decision>;
  /** The same for an Upgrade request; answering means writing to `socket` and closing it. */
  routeUpgrade(req: ProxyRequest, socket: Duplex): Decision | Promise<Decision>;
  /** Stops what this policy runs (timers): a newer config replaced it, or the proxy drains. */
  close?(): void;
}

/** What the factory is given to build a policy for a config. */
export interface PolicyBuild {
  /** An upstream for this config; the running one when URL and options are unchanged. */
  upstream(url: string, opts?: UpstreamOptions, identity?: string): Upstream;
  /** The config's upstream options (shared proxy flags), for `upstream`. */
  readonly upstreamOptions: UpstreamOptions;
  /** Proxy hooks with what every component shares (forwarding, drain, access log), then `own`. */
  hooks(own?: Omit<ProxyHooks, 'trusted' | 'proto' | 'forwarded' | 'draining'>): ProxyHooks;
  readonly trusted: TrustedProxies;
  readonly accessLog: AccessLog;
}

type Config = HttpProxyConfig & AccessLogConfig & { listen: string };

export interface HttpProxyOptions<
  C extends Config,
  P extends HttpProxyPolicy,
  L extends ProxyListener = ProxyListener,
> {
  ctx: ComponentContext<C>;
  /** the component's name, for the access log's service.name */
  component: string;
  /** settings a reload may not change (`listen` and `maxHeaderSize` always are) */
  restartOnly?: readonly (keyof C & string)[];
  /** X-Forwarded-Proto and Forwarded proto of what clients came over */
  proto?: 'http' | 'https';
  /** what a malformed or abusive client got, for the component's metrics */
  onClientError?(kind: ClientErrorKind): void;
  /** the listener (default: the lean HTTP/1.1 server alone, http1Listener) */
  listener?(o: ListenerOptions): L;
  /** the listener's limits of a config (default: the shared proxy flags, httpLimitsOf) */
  limits?(config: C): ListenerLimits;
  /**
   * The filter factory: the policy of a config. It may throw (or reject) to refuse the config:
   * at start that is a config error, on reload the old policy keeps serving. `previous` is the
   * running policy on reload (state worth carrying over).
   */
  policy(config: C, build: PolicyBuild, previous: P | undefined): P | Promise<P>;
}

/** A running proxy skeleton; the component's Instance delegates to it. */
export interface HttpProxy<
  C extends Config,
  P extends HttpProxyPolicy,
  L extends ProxyListener = ProxyListener,
> {
  readonly listener: L;
  /** what listens */
  readonly server: NetServer;
  readonly accessLog: AccessLog;
  /** the policy serving now */
  readonly policy: P;
  readonly config: C;
  /** drain has begun: responses close their connections */
  readonly draining: boolean;
  /** Binds the listener. */
  listen(): Promise<void>;
  /** Builds the next policy, then swaps it in; throws (nothing changed) when the config is refused. */
  reload(next: C, prev: C): Promise<void>;
  /** Stops accepting, lets requests finish by the deadline, closes upstreams and the access log. */
  drain(deadline: number): Promise<void>;
  /** An answer of the component's own, with its access record (Envoy: a local reply). */
  reply(
    req: ProxyRequest,
    res: ProxyResponse,
    status: number,
    headers: readonly string[],
    body: string,
    attributes?: string,
    since?: number,
  ): void;
}

const ALWAYS_RESTART = ['listen', 'maxHeaderSize'] as const;

/** Creates the skeleton and the first policy (create(): nothing is bound yet). */
export async function createHttpProxy<
  C extends Config,
  P extends HttpProxyPolicy,
  L extends ProxyListener = ProxyListener,
>(opts: HttpProxyOptions<C, P, L>): Promise<HttpProxy<C, P, L>> {
  const { ctx } = opts;
  const accessLog = new AccessLog({ component: opts.component, registry: ctx.registry, logger: ctx.logger });
  accessLog.configure(ctx.config);
  const upstreams = new UpstreamSet();
  const restartOnly = [...ALWAYS_RESTART, ...(opts.restartOnly ?? [])] as (keyof C & string)[];
  let config = ctx.config;
  let trusted = new TrustedProxies(config.trustedProxies);
  let draining = false;
  const isDraining = () => draining;

  const buildFor = (c: C, t: TrustedProxies): PolicyBuild => {
    const upstreamOptions = upstreamOptionsOf(c);
    return {
      upstream: (url, o = upstreamOptions, identity) => upstreams.get(url, o, identity),
      upstreamOptions,
      hooks: (own) => ({
        trusted: t,
        proto: opts.proto ?? 'http',
        forwarded: c.forwarded,
        draining: isDraining,
        accessLog,
        ...own,
      }),
      trusted: t,
      accessLog,
    };
  };

  upstreams.begin();
  let policy: P;
  try {
    policy = await opts.policy(config, buildFor(config, trusted), undefined);
  } catch (err) {
    upstreams.abort();
    throw err;
  }
  upstreams.commit();

  const dispatch = (req: ProxyRequest, res: ProxyResponse, d: Decision): void => {
    if (d !== undefined && !res.destroyed) proxyRequest(req, res, d.upstream, d.hooks);
  };
  const onRequest = (req: ProxyRequest, res: ProxyResponse): void => {
    const d = policy.route(req, res);
    if (d instanceof Promise)
      d.then(
        (x) => dispatch(req, res, x),
        (err) => failed(res, err),
      );
    else dispatch(req, res, d);
  };
  const failed = (res: ProxyResponse, err: Error): void => {
    ctx.logger.error({ error: err.message }, 'request policy failed');
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(500, ['content-type', 'text/plain', 'content-length', '22']);
      res.end('internal server error\n');
    } else res.destroy();
  };
  const tunnel = (req: ProxyRequest, socket: Duplex, head: Buffer, d: Decision): void => {
    if (d === undefined || socket.destroyed) return;
    // an in-process hop (dds-pod's internal:) carries requests, not raw byte streams
    if (d.upstream.internal !== undefined)
      socketReply(
        socket,
        502,
        ['content-type', 'text/plain'],
        'upgrades do not pass an internal: upstream\n',
      );
    else proxyUpgrade(req, socket, head, d.upstream, d.hooks, d.tunnelHeaders);
  };
  const onUpgrade = (req: ProxyRequest, socket: Socket, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const d = policy.routeUpgrade(req, socket);
    if (d instanceof Promise)
      d.then(
        (x) => tunnel(req, socket, head, x),
        () => socket.destroy(),
      );
    else tunnel(req, socket, head, d);
  };

  const limitsOf = opts.limits ?? httpLimitsOf;
  const listenerOptions: ListenerOptions = {
    handler: onRequest,
    limits: limitsOf(config),
    onClientError: opts.onClientError,
    bodyRate: () => config, // the minimum body rate of HTTP/2 bodies, as it is after reloads
  };
  const listener = (opts.listener?.(listenerOptions) ?? http1Listener(listenerOptions)) as L;
  const server = listener.server;
  listener.http1.on('upgrade', onUpgrade);
  const tracker = new ConnectionTracker(server);
  // in dds-pod, the other components' internal:<this component> upstreams come here
  const withdrawInternal = ctx.serveInternal?.(onRequest);

  return {
    listener,
    server,
    accessLog,
    get policy() {
      return policy;
    },
    get config() {
      return config;
    },
    get draining() {
      return draining;
    },

    async listen() {
      // listen: off (dds-pod): reached only in-process, through internal: upstreams
      if (config.listen !== 'off') await listen(server, parseAddress(config.listen) as Address);
    },

    async reload(next, prev) {
      refuseRestartOnly(next, prev, restartOnly);
      const t = new TrustedProxies(next.trustedProxies);
      upstreams.begin();
      let fresh: P | undefined;
      try {
        fresh = await opts.policy(next, buildFor(next, t), policy);
        accessLog.configure(next); // a destination that cannot be opened refuses the reload
      } catch (err) {
        if (fresh !== undefined && fresh !== policy) fresh.close?.();
        upstreams.abort();
        throw err;
      }
      const old = policy;
      policy = fresh;
      config = next;
      trusted = t;
      listener.setLimits(limitsOf(next));
      upstreams.commit();
      if (old !== fresh) old.close?.();
    },

    async drain(deadline) {
      draining = true;
      policy.close?.();
      // HTTP/2 sessions get a GOAWAY and idle HTTP/1.1 connections close now; busy ones after
      // their response (which says `connection: close` while draining)
      listener.closeIdle();
      const tick = setInterval(() => listener.closeIdle(), 25);
      try {
        await tracker.drain(deadline);
      } finally {
        clearInterval(tick);
        withdrawInternal?.();
        await upstreams.close();
        await accessLog.close();
      }
    },

    reply(req, res, status, headers, body, attributes = '', since = 0) {
      if (res.destroyed) return;
      if (draining) res.shouldKeepAlive = false;
      res.writeHead(status, [...headers, 'content-length', String(Buffer.byteLength(body))]);
      res.end(body);
      if (accessLog.enabled) {
        const seconds = since === 0 ? 0 : (performance.now() - since) / 1000;
        accessLog.log(
          req as LoggedRequest,
          status,
          seconds,
          Buffer.byteLength(body),
          undefined,
          attributes,
          trusted,
        );
      }
    },
  };
}

/** A whole answer on a raw socket (a refused Upgrade request), then close. */
export function socketReply(socket: Duplex, status: number, headers: readonly string[], body: string): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  socket.end(`${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
