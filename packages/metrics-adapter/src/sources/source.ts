import type { MetricSet } from '../exposition/metric-set.js';
import type { Naming } from '../exposition/naming.js';

export type SourceKind = 'redis' | 'mysql' | 'memcached' | 'json';

export interface ScrapeOptions {
  timeoutMs: number;
  maxBytes: number;
  naming: Naming;
  /** query parameters of the request (`module` for JSON) */
  params: URLSearchParams;
}

export interface CollectNotes {
  /** fields that were malformed or not numeric and therefore skipped */
  skipped: number;
  /** a few examples of skipped fields, for the log */
  examples: string[];
}

/**
 * One kind of target. collect() fetches on request and fills the scrape's MetricSet, or throws
 * a ScrapeError; the server turns that into `<namespace>_up 0`.
 */
export interface Source {
  kind: SourceKind;
  namespace: string;
  /** the exporters' multi-target endpoint: /scrape (redis, memcached) or /probe (mysql, json) */
  multiTargetPath: '/scrape' | '/probe';
  /** the configured target, scraped on /metrics */
  defaultTarget: string;
  /** an error message for a target parameter that cannot be used */
  checkTarget(target: string): string | undefined;
  /** the target as safe to log (no password) */
  describe(target: string): string;
  collect(set: MetricSet, target: string, opts: ScrapeOptions): Promise<CollectNotes>;
  /** not ready while the configured target fails on a setting (password, CA): the reason */
  readiness?(): true | string;
  /** closes what it keeps between scrapes (connections), once it is replaced or drained */
  close?(): void;
}
