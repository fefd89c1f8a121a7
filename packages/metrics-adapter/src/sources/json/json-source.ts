import type { request } from 'undici';
import type { MetricSet } from '../../exposition/metric-set.js';
import { ScrapeError, toScrapeError } from '../scrape-error.js';
import type { CollectNotes, ScrapeOptions, Source } from '../source.js';
import type { JsonModules } from './json-config.js';
import { jsonMetrics } from './json-metrics.js';
import type { Json } from './json-path.js';

export interface JsonSourceConfig {
  target: string;
  module: string;
  /** current modules; a function so a config reload swaps them without a new source */
  modules: () => JsonModules;
}

function checkUrl(t: string): string | undefined {
  try {
    const u = new URL(t);
    return u.protocol === 'http:' || u.protocol === 'https:'
      ? undefined
      : `unsupported scheme "${u.protocol}"`;
  } catch {
    return `invalid URL "${t}"`;
  }
}

/** Fetches the document with a deadline and a size cap, streaming so a huge body is cut off early. */
async function fetchJson(url: string, headers: Record<string, string>, opts: ScrapeOptions): Promise<Json> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    // undici loads with the first JSON scrape (the Redis, MySQL and memcached sources never use it)
    const undici = (await import('undici')).default;
    res = await undici.request(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...headers },
      signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  } catch (err) {
    if (signal.aborted) throw new ScrapeError('timeout', `${url}: no answer within ${opts.timeoutMs}ms`);
    throw toScrapeError(err, url);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > opts.maxBytes) {
        res.body.destroy();
        throw new ScrapeError('too_large', `${url}: body larger than ${opts.maxBytes} bytes; aborted`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof ScrapeError) throw err;
    if (signal.aborted)
      throw new ScrapeError('timeout', `${url}: body not complete within ${opts.timeoutMs}ms`);
    throw toScrapeError(err, url);
  }
  if (res.statusCode < 200 || res.statusCode > 299)
    throw new ScrapeError('protocol', `${url}: HTTP ${res.statusCode}`);
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as Json;
  } catch (err) {
    throw new ScrapeError('protocol', `${url}: not JSON: ${(err as Error).message}`);
  }
}

export function jsonSource(cfg: JsonSourceConfig): Source {
  return {
    kind: 'json',
    namespace: 'json',
    multiTargetPath: '/probe',
    defaultTarget: cfg.target,
    checkTarget: checkUrl,
    describe: (t) => t.replace(/\/\/[^@/]*@/, '//***@'),
    async collect(set: MetricSet, target: string, opts: ScrapeOptions): Promise<CollectNotes> {
      const name = opts.params.get('module') ?? cfg.module;
      const mod = cfg.modules().get(name);
      if (!mod) throw new ScrapeError('error', `unknown module "${name}"`);
      const doc = await fetchJson(target, mod.headers, opts);
      const skipped = jsonMetrics(set, doc, mod);
      return { skipped, examples: [] };
    },
  };
}
