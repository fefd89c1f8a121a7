import type { ProxyRequest } from '@dds/core/http/proxy-contract';
import { createHttp1Server, type HttpFront, type LeanResponse } from '@dds/core/http/server/http1-server';
import { PreparedResponse } from '@dds/core/http/server/prepared-response';
import { Counter, METRIC_PREFIX, type Registry } from '@dds/core/metrics';
import type { CheckState } from './health/check-runner.js';
import { checkAnswer, liveAnswer, notFound, type ProbeAnswer, readyAnswer } from './health/health-report.js';

export interface ProbeSource {
  /** bumped whenever a check's state changes; answers are rendered once per version */
  readonly version: number;
  readonly draining: boolean;
  states(): readonly CheckState[];
  state(name: string): CheckState | undefined;
}

interface Cell {
  endpoint: string;
  code: number;
  n: number;
}

/** A rendered answer and the counter it increments. */
interface Served {
  answer: ProbeAnswer;
  cell: Cell;
}

const METHOD_NOT_ALLOWED = new PreparedResponse(
  405,
  ['content-type', 'text/plain', 'allow', 'GET, HEAD'],
  Buffer.from('method not allowed\n'),
);

/**
 * The probe port the kubelet hits. Every answer comes from memory: the check results are cached
 * by the runners and the rendered answers (whole responses as bytes) are cached here per state
 * version, so a probe storm costs one map lookup and one write of ready bytes per request and never
 * reaches a dependency.
 */
export function createProbeServer(source: ProbeSource, appVersion: string, registry: Registry): HttpFront {
  // plain integers on the hot path, one cell per endpoint and code, found when an answer is
  // rendered; prom-client reads them only when /metrics is scraped
  const cells = new Map<string, Cell>();
  new Counter({
    name: `${METRIC_PREFIX}health_probe_requests_total`,
    help: 'Requests to the probe port by endpoint and status code.',
    labelNames: ['endpoint', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of cells.values()) this.inc({ endpoint: c.endpoint, code: String(c.code) }, c.n);
    },
  });
  const cellOf = (endpoint: string, code: number): Cell => {
    const key = `${endpoint} ${code}`;
    let c = cells.get(key);
    if (!c) {
      c = { endpoint, code, n: 0 };
      cells.set(key, c);
    }
    return c;
  };
  const notAllowed: Served = { answer: METHOD_NOT_ALLOWED, cell: cellOf('other', 405) };

  const render = (path: string, verbose: boolean): [string, ProbeAnswer] => {
    if (path === '/livez' || path === '/healthz')
      return [path.slice(1), liveAnswer(appVersion, verbose, path)];
    const meta = { version: appVersion, draining: source.draining };
    if (path === '/readyz') return ['readyz', readyAnswer(source.states(), meta, verbose)];
    if (path.startsWith('/readyz/')) {
      let name: string | undefined;
      try {
        name = decodeURIComponent(path.slice(8));
      } catch {
        // a malformed %-escape: no such check
      }
      const s = name === undefined ? undefined : source.state(name);
      if (s) return ['readyz_check', checkAnswer(s, meta, verbose)];
    }
    const names = source.states().map((s) => s.check.name);
    return ['other', notFound(path, names)];
  };

  const cache = new Map<string, Served>();
  let cachedVersion = -1;
  let cachedDraining = false;

  const handler = (req: ProxyRequest, res: LeanResponse) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return send(res, notAllowed);
    const url = req.url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const verbose = q >= 0 && /(?:^|&)verbose(?:[=&]|$)/.test(url.slice(q + 1));
    if (source.version !== cachedVersion || source.draining !== cachedDraining) {
      cache.clear();
      cachedVersion = source.version;
      cachedDraining = source.draining;
    }
    const key = verbose ? `${path}?v` : path;
    let served = cache.get(key);
    if (!served) {
      const [endpoint, answer] = render(path, verbose);
      served = { answer, cell: cellOf(endpoint, answer.status) };
      // unknown paths and %-escaped spellings of known ones are not cached, so random URLs
      // cannot grow the cache
      if (endpoint !== 'other' && !path.includes('%')) cache.set(key, served);
    }
    send(res, served);
  };

  const send = (res: LeanResponse, s: Served) => {
    res.endPrepared(s.answer);
    s.cell.n++;
  };

  return createHttp1Server(
    { maxHeaderSize: 8192, headerTimeout: 5000, requestTimeout: 10_000, idleTimeout: 65_000 },
    handler,
  );
}
