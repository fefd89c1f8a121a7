import { Resolver } from 'node:dns/promises';
import type { Logger } from '@dds/core/logger';

export interface DnsDiscoveryConfig {
  /** SRV name (`_redis._tcp.redis.ns.svc.cluster.local`) or a host name with `port` */
  name: string;
  port?: number;
  weight: number;
  /** ms between lookups */
  interval: number;
  /** DNS server to ask (`host:port`); default: the system's */
  server?: string;
}

/**
 * Finds a pool's servers in DNS and keeps them current, for shards behind a Kubernetes headless
 * Service / StatefulSet. SRV records give stable names (`redis-0`, `redis-1` ...): entries are
 * `ip:port:weight name` sorted by name, so placement does not churn when answers come in another
 * order or a pod gets a new IP. A plain host name gives `ip:port:weight` entries sorted by IP.
 */
export class DnsDiscovery {
  private timer: NodeJS.Timeout | null = null;
  private last = '';
  private readonly resolver = new Resolver({ timeout: 2000, tries: 2 });

  constructor(
    private readonly cfg: DnsDiscoveryConfig,
    private readonly pool: string,
    private readonly onServers: (servers: string[]) => void,
    private readonly logger: Logger,
  ) {
    if (cfg.server) this.resolver.setServers([cfg.server]);
  }

  /** Looks up once (the pool starts with this list), then every interval. */
  async start(): Promise<string[]> {
    const first = await this.lookup().catch((err: Error) => {
      this.logger.error(
        { pool: this.pool, name: this.cfg.name, err: err.message },
        'DNS discovery failed; retrying',
      );
      return [] as string[];
    });
    this.last = first.join('\n');
    this.timer = setInterval(() => void this.refresh(), this.cfg.interval);
    this.timer.unref();
    return first;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async refresh(): Promise<void> {
    let servers: string[];
    try {
      servers = await this.lookup();
    } catch (err) {
      // keep the last known servers: a DNS hiccup must not empty the pool
      this.logger.warn(
        { pool: this.pool, name: this.cfg.name, err: (err as Error).message },
        'DNS discovery failed',
      );
      return;
    }
    const key = servers.join('\n');
    if (key === this.last || servers.length === 0) return;
    this.last = key;
    this.logger.info({ pool: this.pool, servers }, 'DNS discovery: servers changed');
    this.onServers(servers);
  }

  async lookup(): Promise<string[]> {
    const w = this.cfg.weight;
    if (this.cfg.port === undefined) {
      const records = await this.resolver.resolveSrv(this.cfg.name);
      const entries = await Promise.all(
        records.map(async (r) => {
          const [ip] = await this.resolver.resolve4(r.name);
          const name = r.name.split('.')[0]!;
          return { name, entry: `${ip}:${r.port}:${w} ${name}` };
        }),
      );
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((e) => e.entry);
    }
    const ips = await this.resolver.resolve4(this.cfg.name);
    return ips.sort().map((ip) => `${ip}:${this.cfg.port}:${w}`);
  }
}
