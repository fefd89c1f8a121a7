import type { ComponentContext, Instance } from '@dds/core/runner';
import type { SidecarConfig } from './config.js';
import { parseUpstream, type UpstreamTarget } from './upstream-url.js';

/**
 * Picks the mode from --mode and the --upstream scheme. Each mode is loaded only when it runs,
 * so a TCP sidecar never loads the HTTP stack (nor PROXY-protocol code an HTTP one).
 */
export async function createSidecar(ctx: ComponentContext<SidecarConfig>): Promise<Instance<SidecarConfig>> {
  const { kind } = parseUpstream(ctx.config.upstream) as UpstreamTarget;
  if (ctx.config.mode === 'client') {
    if (kind === 'tls') return (await import('./modes/tcp-client.js')).createTcpClient(ctx);
    return (await import('./modes/http-client.js')).createHttpClient(ctx);
  }
  if (kind === 'tcp') return (await import('./modes/tcp-server.js')).createTcpServer(ctx);
  return (await import('./tls-sidecar.js')).createTlsSidecar(ctx);
}
