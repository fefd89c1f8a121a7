import type { Logger } from '@dds/core/logger';
import { ExchangeError } from '@dds/core/net/socket-exchange';
import { MetricSet } from '../exposition/metric-set.js';
import type { Naming } from '../exposition/naming.js';
import { ScrapeError } from '../sources/scrape-error.js';
import type { Source } from '../sources/source.js';
import type { AdapterMetrics } from './adapter-metrics.js';

export interface ScrapeSettings {
  naming: Naming;
  timeoutMs: number;
  maxBytes: number;
}

/**
 * One scrape: a fresh MetricSet, the source's collect() bounded by the timeout, then the
 * `<ns>_up` gauge (0 on any failure: never an HTTP error, so Prometheus records the outage)
 * and `<ns>_exporter_last_scrape_error`. Failures are logged with the reason and counted.
 */
export async function scrape(
  source: Source,
  target: string,
  params: URLSearchParams,
  settings: ScrapeSettings,
  logger: Logger,
  metrics: AdapterMetrics,
): Promise<MetricSet> {
  const started = performance.now();
  let set = new MetricSet();
  let failure: ScrapeError | undefined;
  try {
    const notes = await source.collect(set, target, { ...settings, params });
    if (notes.skipped > 0) {
      metrics.skipped.inc({ source: source.kind }, notes.skipped);
      logger.warn(
        {
          source: source.kind,
          target: source.describe(target),
          skipped: notes.skipped,
          examples: notes.examples,
        },
        'target sent malformed or non-numeric fields; skipped them',
      );
    }
  } catch (err) {
    failure =
      err instanceof ScrapeError
        ? err
        : err instanceof ExchangeError
          ? new ScrapeError(err.reason, err.message, { cause: err })
          : new ScrapeError('error', (err as Error)?.message ?? String(err), { cause: err });
    set = new MetricSet(); // partial results of a failed scrape would be misleading
  }
  const seconds = (performance.now() - started) / 1000;
  withScrapeStatus(set, source, failure, seconds);
  if (set.rejected > 0) metrics.skipped.inc({ source: source.kind }, set.rejected);

  const result = failure ? failure.reason : 'success';
  metrics.scrapes.inc({ source: source.kind, result });
  metrics.duration.observe({ source: source.kind }, seconds);
  if (failure)
    logger.warn(
      {
        source: source.kind,
        target: source.describe(target),
        reason: failure.reason,
        error: failure.message,
      },
      `scrape of ${source.kind} target failed: ${failure.message}`,
    );
  return set;
}

/**
 * Adds what every scrape answer ends with: `<ns>_exporter_last_scrape_error`,
 * `<ns>_exporter_last_scrape_duration_seconds` and `<ns>_up` (0 on a failure).
 */
export function withScrapeStatus(
  set: MetricSet,
  source: Source,
  failure: ScrapeError | undefined,
  seconds: number,
): MetricSet {
  const ns = source.namespace;
  // redis_exporter labels the error with its text; the other exporters export a plain gauge
  const errLabels: Record<string, string> =
    source.kind === 'redis' ? { err: failure ? failure.message : '' } : {};
  set.gauge(
    `${ns}_exporter_last_scrape_error`,
    'Whether the last scrape of the target failed (1) or not (0).',
    failure ? 1 : 0,
    errLabels,
  );
  set.gauge(
    `${ns}_exporter_last_scrape_duration_seconds`,
    'Duration of the last scrape of the target.',
    seconds,
  );
  set.gauge(
    `${ns}_up`,
    `Whether the ${source.kind} target could be scraped (1) or not (0).`,
    failure ? 0 : 1,
  );
  return set;
}
