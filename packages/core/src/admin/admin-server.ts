import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import { type Address, listenOptions } from '../net/host-port.js';

export interface AdminOptions {
  address: Address;
  lifecycle: Lifecycle;
  /** a prom-client Registry, or anything that renders metrics (the cluster aggregator) */
  registry: Pick<Registry, 'contentType' | 'metrics'>;
  /** the effective config, already redacted */
  config: () => unknown;
  component: string;
  version: string;
  routes?: (app: FastifyInstance) => void;
}

/**
 * The admin server every component runs on its own port: liveness, readiness (503 while
 * draining), Prometheus metrics and the effective config. Components add their own routes.
 */
export async function startAdminServer(opts: AdminOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true, return503OnClosing: false });
  const started = Date.now();

  app.get('/healthz', async () => ({
    status: 'ok',
    component: opts.component,
    uptime_seconds: (Date.now() - started) / 1000,
  }));
  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const r = opts.lifecycle.readiness();
    return reply
      .code(r.ready ? 200 : 503)
      .send({ status: r.ready ? 'ready' : r.draining ? 'draining' : 'not ready', ...r });
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await opts.registry.metrics();
    return reply.header('content-type', opts.registry.contentType).send(body);
  });

  app.get('/config', async () => opts.config());
  app.get('/version', async () => ({
    component: opts.component,
    version: opts.version,
    node: process.version,
  }));

  opts.routes?.(app);
  await app.listen(listenOptions(opts.address) as { host: string; port: number });
  return app;
}
