import type { AddressInfo } from 'node:net';
import type { ProxyRequest } from '../http/proxy-contract.js';
import type { LeanResponse } from '../http/server/http1-server.js';
import { createHttp1Server } from '../http/server/http1-server.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Address } from '../net/host-port.js';
import { listen } from '../net/listen.js';
import { type AdminReply, type AdminRequest, AdminRouter, type AdminRoutes } from './admin-router.js';
import { authorizeAction } from './admin-token.js';

/** What /metrics renders: a prom-client Registry, or anything alike (the cluster aggregator, the pod). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string> | string;
}

export interface AdminOptions {
  address: Address;
  lifecycle: Lifecycle;
  registry: MetricsSource;
  /** the effective config, already redacted */
  config: () => unknown;
  component: string;
  version: string;
  routes?: (app: AdminRoutes) => void;
  /** the token file admin actions need, read per action (undefined: actions are refused) */
  actionTokenFile?: () => string | undefined;
}

/** Methods that only read: open to the kubelet and Prometheus. Any other is an admin action. */
const READS = new Set(['GET', 'HEAD']);

export interface AdminServer {
  /** the bound address (port 0 resolved) */
  address(): AddressInfo | string | null;
  /** stops listening and closes every connection, idle or not */
  close(): Promise<void>;
}

/** The admin port takes small GETs from the kubelet and Prometheus; anything larger is refused. */
const ADMIN_LIMITS = {
  maxHeaderSize: 16 * 1024,
  headerTimeout: 10_000,
  requestTimeout: 30_000,
  idleTimeout: 60_000,
};

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * The admin server every component runs on its own port: liveness, readiness (503 while
 * draining), Prometheus metrics, the effective config and the version; components add their own
 * routes. It runs on core's lean HTTP/1.1 server (already loaded by the proxying components)
 * with a small router: a framework for six fixed routes cost about 10 MB of RSS per process.
 */
export async function startAdminServer(opts: AdminOptions): Promise<AdminServer> {
  const router = new AdminRouter();
  const started = Date.now();

  router.get('/healthz', () => ({
    status: 'ok',
    component: opts.component,
    uptime_seconds: (Date.now() - started) / 1000,
  }));
  router.get('/livez', () => ({ status: 'ok' }));
  router.get('/readyz', (_req, reply) => {
    const r = opts.lifecycle.readiness();
    reply.code(r.ready ? 200 : 503);
    return { status: r.ready ? 'ready' : r.draining ? 'draining' : 'not ready', ...r };
  });
  router.get('/metrics', async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.header('content-type', opts.registry.contentType).send(body);
  });
  router.get('/config', () => opts.config());
  router.get('/version', () => ({ component: opts.component, version: opts.version, node: process.version }));
  opts.routes?.(router);

  const server = createHttp1Server(
    ADMIN_LIMITS,
    (req: ProxyRequest, res: LeanResponse) => void serve(router, req, res, opts.actionTokenFile),
  );
  await listen(server, opts.address);
  return {
    address: () => server.address(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(
  router: AdminRouter,
  req: ProxyRequest,
  res: LeanResponse,
  actionTokenFile: AdminOptions['actionTokenFile'],
): Promise<void> {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const m = router.match(req.method, path);
  if ('status' in m) {
    const headers: Record<string, string> = m.status === 405 ? { allow: m.allow } : {};
    send(res, m.status, headers, { error: m.status === 404 ? 'not found' : 'method not allowed' });
    return;
  }
  if (!READS.has(req.method)) {
    // a route that changes state: only with the token from --admin-token-file
    const v = authorizeAction(req.headers.authorization, actionTokenFile?.() || undefined);
    if (!v.ok) {
      const headers: Record<string, string> =
        v.status === 401 ? { 'www-authenticate': 'Bearer realm="dds-admin"' } : {};
      send(res, v.status, headers, { error: v.error });
      return;
    }
  }
  const reply = new Reply();
  const request: AdminRequest = {
    method: req.method,
    path,
    params: m.params,
    query: q < 0 ? {} : queryObject(req.url.slice(q + 1)),
    headers: req.headers,
  };
  try {
    const value = await m.handler(request, reply);
    send(res, reply.status, reply.headers, reply.sent ? reply.body : value);
  } catch (err) {
    send(res, 500, {}, { error: (err as Error).message });
  }
}

class Reply implements AdminReply {
  status = 200;
  headers: Record<string, string> = {};
  body: unknown = undefined;
  sent = false;

  code(status: number): this {
    this.status = status;
    return this;
  }

  header(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  type(contentType: string): this {
    return this.header('content-type', contentType);
  }

  send(body: unknown): this {
    this.body = body;
    this.sent = true;
    return this;
  }
}

function send(res: LeanResponse, status: number, headers: Record<string, string>, body: unknown): void {
  if (res.destroyed) return;
  const text = typeof body === 'string' ? body : (JSON.stringify(body ?? null) ?? 'null');
  const type = headers['content-type'] ?? (typeof body === 'string' ? TEXT_TYPE : JSON_TYPE);
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function queryObject(search: string): Record<string, string> {
  // no prototype: a `__proto__` key is a key like any other
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(search)) if (!Object.hasOwn(out, k)) out[k] = v;
  return out;
}
