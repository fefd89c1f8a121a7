import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHttpServer } from '@dds/core/http/http-server';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import type { Logger } from '@dds/core/logger';
import type { Address } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import { MetricSet } from '../exposition/metric-set.js';
import { contentType, negotiate } from '../exposition/text-format.js';
import { ScrapeError } from '../sources/scrape-error.js';
import type { Source } from '../sources/source.js';
import type { AdapterMetrics } from './adapter-metrics.js';
import { type ScrapeSettings, scrape, withScrapeStatus } from './scrape.js';
import { SharedScrapes } from './shared-scrapes.js';

const LIMITS = {
  maxHeaderSize: 16 * 1024,
  headerTimeout: 10_000,
  requestTimeout: 120_000,
  idleTimeout: 65_000,
};

/**
 * The scrape timeout: ours, or less if Prometheus says it gives up earlier
 * (X-Prometheus-Scrape-Timeout-Seconds), keeping a little margin to write the answer.
 */
export function effectiveTimeout(configured: number, header: string | string[] | undefined): number {
  const s = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isFinite(s) || s <= 0) return configured;
  return Math.max(100, Math.min(configured, s * 1000 - 250));
}

function landing(source: Source): string {
  const example =
    source.kind === 'json'
      ? 'http://app:8080/stats'
      : source.kind === 'mysql'
        ? '127.0.0.1:3306'
        : source.kind === 'redis'
          ? 'redis://127.0.0.1:6379'
          : '127.0.0.1:11211';
  return `<!doctype html><title>dds-metrics-adapter (${source.kind})</title><h1>dds-metrics-adapter: ${source.kind}</h1>
<ul><li><a href="/metrics">/metrics</a> (${source.defaultTarget ? 'configured target' : 'no target configured'})</li>
<li>${source.multiTargetPath}?target=${example}${source.kind === 'json' ? '&amp;module=default' : ''}</li></ul>\n`;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body; // the length and the write use the same bytes
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** One listener per source, like the community exporters each run on their own port. */
export class ExporterServer {
  private readonly server: Server;
  private readonly tracker: ConnectionTracker;
  private readonly shared = new SharedScrapes();
  /** bumped by update(): scrapes in flight with the old source are not shared with new requests */
  private generation = 0;

  constructor(
    private source: Source,
    private settings: ScrapeSettings,
    private readonly logger: Logger,
    private readonly metrics: AdapterMetrics,
  ) {
    this.server = createHttpServer(LIMITS, (req, res) => void this.handle(req, res));
    this.tracker = new ConnectionTracker(this.server);
  }

  /** swaps target and settings (config reload); in-flight scrapes finish with the old ones */
  update(source: Source, settings: ScrapeSettings): void {
    this.source = source;
    this.settings = settings;
    this.generation++;
  }

  /** scrapes in flight now (one per target at most) */
  get scrapesInFlight(): number {
    return this.shared.size;
  }

  listen(address: Address): Promise<void> {
    return listen(this.server, address);
  }

  drain(deadline: number): Promise<void> {
    return this.tracker.drain(deadline);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const source = this.source;
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    let target: string;
    if (url.pathname === '/metrics') {
      target = source.defaultTarget;
      if (!target)
        return send(
          res,
          404,
          'text/plain; charset=utf-8',
          `no ${source.kind} target configured; use ${source.multiTargetPath}?target=\n`,
        );
    } else if (url.pathname === source.multiTargetPath) {
      target = url.searchParams.get('target') ?? '';
      const problem = target ? source.checkTarget(target) : "missing parameter 'target'";
      if (problem) return send(res, 400, 'text/plain; charset=utf-8', `${problem}\n`);
    } else if (url.pathname === '/') {
      return send(res, 200, 'text/html; charset=utf-8', landing(source));
    } else {
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
    const settings = {
      ...this.settings,
      timeoutMs: effectiveTimeout(
        this.settings.timeoutMs,
        req.headers['x-prometheus-scrape-timeout-seconds'],
      ),
    };
    // one scrape per target in flight; `module` is the only parameter a source reads (JSON)
    const key = `${this.generation}\0${target}\0${url.searchParams.get('module') ?? ''}`;
    const answer = await this.shared.answer(
      key,
      settings.timeoutMs,
      () => scrape(source, target, url.searchParams, settings, this.logger, this.metrics),
      (waited) =>
        withScrapeStatus(
          new MetricSet(),
          source,
          new ScrapeError(
            'timeout',
            `no answer within ${settings.timeoutMs}ms (a scrape of the target was already running)`,
          ),
          waited / 1000,
        ),
    );
    const format = negotiate(req.headers.accept);
    if (res.destroyed) return;
    send(res, 200, contentType(format), answer.body(format));
  }
}
