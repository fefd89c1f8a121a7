import { DdsError } from '@dds/core/errors';
import { parseAddress } from '@dds/core/net/host-port';
import { redisConfigured } from '@dds/core/redis/redis-settings';
import type { ComponentContext, Instance } from '@dds/core/runner';
import type { AdapterConfig } from './config.js';
import { MetricSet } from './exposition/metric-set.js';
import { adapterMetrics } from './server/adapter-metrics.js';
import { ExporterServer } from './server/exporter-server.js';
import type { ScrapeSettings } from './server/scrape.js';
import { type JsonModules, loadJsonConfig } from './sources/json/json-config.js';
import { jsonSource } from './sources/json/json-source.js';
import { memcachedSource } from './sources/memcached/memcached-source.js';
import { mysqlSource } from './sources/mysql/mysql-source.js';
import { redisSource } from './sources/redis/redis-source.js';
import type { Source, SourceKind } from './sources/source.js';

interface Planned {
  source: Source;
  listen: string;
}

/** Builds the configured sources; throws a DdsError naming the field for an unusable target. */
function plan(c: AdapterConfig, jsonModules: () => JsonModules): Map<SourceKind, Planned> {
  const out = new Map<SourceKind, Planned>();
  const add = (field: string, source: Source, listen: string) => {
    const problem = source.checkTarget(source.defaultTarget);
    if (problem) throw new DdsError('DDS_CONFIG_INVALID', `${field}: ${problem}`);
    out.set(source.kind, { source, listen: c.listen || listen });
  };
  if (redisConfigured(c)) add('redis', redisSource(c), c.redisListen);
  if (c.mysql)
    add(
      'mysql',
      mysqlSource({ target: c.mysql, password: c.mysqlPassword, passwordFile: c.mysqlPasswordFile }),
      c.mysqlListen,
    );
  if (c.memcached)
    add('memcached', memcachedSource({ target: c.memcached, slabs: c.memcachedSlabs }), c.memcachedListen);
  if (c.json) {
    if (!jsonModules().has(c.jsonModule))
      throw new DdsError('DDS_CONFIG_INVALID', `jsonModule: no module "${c.jsonModule}" in ${c.jsonConfig}`);
    add('json', jsonSource({ target: c.json, module: c.jsonModule, modules: jsonModules }), c.jsonListen);
  }
  return out;
}

const settingsOf = (c: AdapterConfig): ScrapeSettings => ({
  naming: c.naming,
  timeoutMs: c.scrapeTimeout,
  maxBytes: c.maxReplySize,
});

export async function createAdapter({
  config,
  logger,
  registry,
}: ComponentContext<AdapterConfig>): Promise<Instance<AdapterConfig>> {
  const metrics = adapterMetrics(registry);
  let modules: JsonModules = config.jsonConfig
    ? await loadJsonConfig(config.jsonConfig, config.naming === 'strict')
    : new Map();
  const current = () => modules;
  let planned = plan(config, current);
  const servers = new Map<SourceKind, ExporterServer>();
  for (const [kind, p] of planned)
    servers.set(kind, new ExporterServer(p.source, settingsOf(config), logger, metrics));

  /**
   * Scrapes the configured target once, so /readyz can tell at once when a setting cannot work
   * (wrong password, untrusted CA); every scrape of it keeps that up to date.
   */
  const probe = (source: Source, c: AdapterConfig) => {
    if (!source.readiness) return;
    source
      .collect(new MetricSet(), source.defaultTarget, { ...settingsOf(c), params: new URLSearchParams() })
      .catch((err: Error) =>
        logger.warn({ source: source.kind, err: err.message }, 'the configured target cannot be scraped yet'),
      );
  };

  return {
    ready() {
      for (const p of planned.values()) {
        const r = p.source.readiness?.() ?? true;
        if (r !== true) return r;
      }
      return true;
    },
    async start() {
      for (const [kind, p] of planned) {
        const addr = parseAddress(p.listen);
        if (typeof addr === 'string') throw new DdsError('DDS_CONFIG_INVALID', `${kind} listen: ${addr}`);
        await servers.get(kind)!.listen(addr);
        logger.info(
          { source: kind, listen: p.listen, target: p.source.describe(p.source.defaultTarget) },
          `${kind} exporter listening`,
        );
        probe(p.source, config);
      }
    },
    async reload(next) {
      const nextModules = next.jsonConfig
        ? await loadJsonConfig(next.jsonConfig, next.naming === 'strict')
        : new Map();
      const nextPlan = plan(next, () => nextModules);
      const kinds = (m: Map<SourceKind, Planned>) =>
        [...m]
          .map(([k, p]) => `${k}@${p.listen}`)
          .sort()
          .join(',');
      if (kinds(nextPlan) !== kinds(planned))
        throw new DdsError(
          'DDS_CONFIG_INVALID',
          'adding or removing sources or changing listen addresses needs a restart',
        );
      modules = nextModules;
      const old = planned;
      planned = plan(next, current);
      for (const [kind, p] of planned) {
        servers.get(kind)!.update(p.source, settingsOf(next));
        old.get(kind)?.source.close?.();
        probe(p.source, next);
      }
    },
    watchedFiles: (c) => (c.jsonConfig ? [c.jsonConfig] : []),
    async drain(deadline) {
      await Promise.all([...servers.values()].map((s) => s.drain(deadline)));
      for (const p of planned.values()) p.source.close?.();
    },
  };
}
