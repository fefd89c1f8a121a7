import { DdsError } from '@dds/core/errors';
import type { Logger } from '@dds/core/logger';
import type { Registry } from '@dds/core/metrics';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import type { RateLimiterConfig } from '../config.js';
import type { Limiter } from '../limiter/verdict.js';
import type { WindowCounter } from '../limiter/window-counter.js';
import { loadRlsConfig, type RlsConfig, rlsConfigFiles } from './rls-config.js';
import { RlsMetrics } from './rls-metrics.js';
import { type RlsServer, startRlsServer } from './rls-server.js';
import { RlsService, type RlsSettings } from './rls-service.js';

export interface RlsEndpointDeps {
  limiter: Limiter;
  windows: WindowCounter;
  registry: Registry;
  logger: Logger;
  clock: () => number;
  /** the limiter's readiness: the gRPC health service answers NOT_SERVING while it fails */
  ready: () => boolean;
}

/**
 * Envoy's global rate-limit service inside the limiter: the descriptor config (loaded and
 * checked at create, hot-reloaded with the rest), the service, and the gRPC listener started on
 * start(). A bad config file fails the start (exit 2) or is rejected on reload.
 */
export class RlsEndpoint {
  private server: RlsServer | undefined;
  private draining = false;
  readonly service: RlsService;
  private readonly metrics: RlsMetrics;

  constructor(
    config: RateLimiterConfig,
    private readonly deps: RlsEndpointDeps,
  ) {
    this.metrics = new RlsMetrics(deps.registry);
    this.service = new RlsService(settingsOf(config, loadRlsConfig(config.rlsConfig)), {
      limiter: deps.limiter,
      windows: deps.windows,
      metrics: this.metrics,
      clock: deps.clock,
    });
  }

  get config(): RlsConfig {
    return this.service.settings.config;
  }

  async start(listen: string): Promise<void> {
    const a = parseAddress(listen) as Address;
    if (a.kind !== 'tcp') throw new DdsError('DDS_CONFIG_INVALID', 'rlsListen: a TCP HOST:PORT');
    this.server = await startRlsServer({
      host: a.host,
      port: a.port,
      service: this.service,
      metrics: this.metrics,
      logger: this.deps.logger,
      serving: () => !this.draining && this.deps.ready(),
    });
    this.deps.logger.info(
      {
        rlsListen: listen,
        domains: [...this.config.domains.keys()],
        algorithm: this.service.settings.algorithm,
      },
      'rate-limit service (RLS) listening',
    );
  }

  /** Reads the descriptor files of a reload; throws (nothing changed) when one is invalid. */
  prepare(next: RateLimiterConfig): RlsSettings {
    return settingsOf(next, loadRlsConfig(next.rlsConfig));
  }

  /** Serves what prepare() read. */
  apply(settings: RlsSettings): void {
    const config = settings.config;
    this.service.settings = settings;
    this.deps.logger.info(
      { domains: [...config.domains.keys()], files: config.files },
      'RLS config reloaded',
    );
  }

  /** The files (and directory) to watch. */
  watched(config: RateLimiterConfig): string[] {
    try {
      const files = rlsConfigFiles(config.rlsConfig);
      return files[0] === config.rlsConfig ? files : [config.rlsConfig, ...files];
    } catch {
      return [config.rlsConfig];
    }
  }

  healthChanged(): void {
    this.server?.healthChanged();
  }

  async drain(deadline: number): Promise<void> {
    this.draining = true;
    await this.server?.close(deadline);
  }
}

function settingsOf(c: RateLimiterConfig, config: RlsConfig): RlsSettings {
  return {
    config,
    algorithm: c.rlsAlgorithm,
    prefix: c.rlsRedisPrefix,
    shadowMode: c.rlsShadowMode,
    headers: c.rlsHeaders,
    failMode: c.failMode,
  };
}
