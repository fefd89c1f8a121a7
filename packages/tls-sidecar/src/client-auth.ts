import type { Duplex } from 'node:stream';
import { accessAttr } from '@dds/core/access-log/access-log';
import { GrpcStatus, grpcAnswer, isGrpc } from '@dds/core/http/grpc';
import type {
  Decision,
  HttpProxy,
  HttpProxyPolicy,
  PolicyBuild,
  ProxyRoute,
} from '@dds/core/http/http-proxy';
import { socketReply } from '@dds/core/http/http-proxy';
import type { ProxyRequest, ProxyResponse } from '@dds/core/http/proxy-contract';
import type { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { type ClientPolicy, IDENTITY_HEADERS } from './client-identity.js';
import type { SidecarConfig } from './config.js';
import type { SidecarUpstream } from './http-upstream.js';
import { identityOf } from './server-tls.js';
import type { SidecarMetrics } from './sidecar-metrics.js';

const DENIED = 'client certificate not allowed\n';

/** What the HTTP modes' policy is built from besides the config. */
export interface SidecarPolicyDeps {
  /** server mode (TLS in front of the app): identity headers from clients are removed, HSTS is sent */
  readonly serverMode: boolean;
  /** client authentication (server mode with --client-auth); undefined: every client may send */
  readonly clientAuth: ClientPolicy | undefined;
  readonly upstreams: SidecarUpstream;
  readonly metrics: SidecarMetrics;
  /** the proxy skeleton, for answers of the sidecar's own */
  proxy(): HttpProxy<SidecarConfig, SidecarPolicy>;
}

/**
 * The filter of the tls-sidecar's HTTP modes: client authentication. With a client policy, a
 * connection whose verified certificate is outside the allow-list is answered 403 (a gRPC call:
 * PERMISSION_DENIED), and the rest go to the app with the identity headers the policy asks for
 * (Client-Cert, Client-Cert-Chain, X-Forwarded-Client-Cert; a client's own copies are removed).
 * Connections without a valid certificate when one is required never get here: the TLS side
 * closed them (server-tls.ts). Without a policy every request goes to the app.
 */
export class SidecarPolicy implements HttpProxyPolicy {
  private readonly route0: ProxyRoute;
  private readonly trusted: TrustedProxies;

  constructor(
    config: SidecarConfig,
    build: PolicyBuild,
    private readonly deps: SidecarPolicyDeps,
  ) {
    const { metrics, upstreams, clientAuth, serverMode } = deps;
    this.trusted = build.trusted;
    const hsts = serverMode && config.hsts ? ['strict-transport-security', config.hsts] : undefined;
    const hooks = build.hooks({
      strip: serverMode ? IDENTITY_HEADERS : undefined,
      requestHeaders: clientAuth ? (req) => identityOf(req.socket)?.headers : undefined,
      responseHeaders: hsts ? () => hsts : undefined,
      accessAttributes: clientAuth ? (req) => identityOf(req.socket)?.access ?? '' : undefined,
      onDone: (req, status, seconds, failure) => {
        metrics.request(req.httpVersionMajor === 2, status, seconds);
        if (failure === 'client_abort') metrics.clientAborts.inc();
        else if (failure)
          metrics.upstreamErrors.inc({ kind: failure === 'upstream_timeout' ? 'timeout' : 'error' });
      },
      onUpstreamError: (_req, err) => upstreams.failed(err),
    });
    // the upstream is read per request: new TLS files put a new one in place between reloads
    this.route0 = {
      get upstream() {
        return upstreams.current;
      },
      hooks,
    };
  }

  route(req: ProxyRequest, res: ProxyResponse): Decision {
    if (this.deps.clientAuth === undefined) return this.route0;
    const id = identityOf(req.socket);
    if (id?.allowed) return this.route0;
    if (req.httpVersionMajor === 2 && isGrpc(req.headers['content-type'])) {
      // a gRPC client gets a gRPC status, not an HTTP one
      const answer = grpcAnswer(GrpcStatus.PERMISSION_DENIED, 'client certificate not allowed');
      res.writeProxiedHead(200, answer, undefined, { complete: true });
      const log = this.deps.proxy().accessLog;
      if (log.enabled) {
        const attrs = (id?.access ?? '') + accessAttr('rpc.grpc.status_code', GrpcStatus.PERMISSION_DENIED);
        log.log(req, 200, 0, 0, undefined, attrs, this.trusted);
      }
      return undefined;
    }
    res.shouldKeepAlive = false;
    this.deps.proxy().reply(req, res, 403, ['content-type', 'text/plain; charset=utf-8'], DENIED, id?.access);
    return undefined;
  }

  routeUpgrade(_req: ProxyRequest, socket: Duplex): Decision {
    if (this.deps.clientAuth === undefined) return this.route0;
    const id = identityOf(socket as never);
    if (!id?.allowed) {
      socketReply(socket, 403, [], '');
      return undefined;
    }
    return id.headers
      ? { upstream: this.route0.upstream, hooks: this.route0.hooks, tunnelHeaders: id.headers }
      : this.route0;
  }
}
