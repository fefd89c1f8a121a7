import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Counter, createHttpServer, METRIC_PREFIX, type Registry } from '@dds/core';
import type { CheckState } from './health/check-runner.js';
import { checkAnswer, liveAnswer, notFound, type ProbeAnswer, readyAnswer } from './health/health-report.js';

export interface ProbeSource {
  /** bumped whenever a check's state changes; answers are rendered once per version */
  readonly version: number;
  readonly draining: boolean;
  states(): readonly CheckState[];
  state(name: string): CheckState | undefined;
}

const METHOD_NOT_ALLOWED: ProbeAnswer = {
  code: 405,
  headers: ['content-type', 'text/plain', 'content-length', '19', 'allow', 'GET, HEAD'],
  body: Buffer.from('method not allowed\n'),
};

/**
 * The probe port the kubelet hits. Every answer comes from memory: the check results are cached
 * by the runners and the rendered bodies are cached here per state version, so a probe storm costs
 * one map lookup and one write per request and never reaches a dependency.
 */
export function createProbeServer(source: ProbeSource, appVersion: string, registry: Registry): Server {
  // plain integers on the hot path; prom-client reads them only when /metrics is scraped
  const counts = new Map<string, { endpoint: string; code: string; n: number }>();
  new Counter({
    name: `${METRIC_PREFIX}health_probe_requests_total`,
    help: 'Requests to the probe port by endpoint and status code.',
    labelNames: ['endpoint', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counts.values()) this.inc({ endpoint: c.endpoint, code: c.code }, c.n);
    },
  });
  const count = (endpoint: string, code: number) => {
    const key = endpoint + code;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { endpoint, code: String(code), n: 1 });
  };

  const cache = new Map<string, ProbeAnswer>();
  let cachedVersion = -1;
  let cachedDraining = false;

  const answer = (path: string, verbose: boolean): [string, ProbeAnswer] => {
    if (path === '/livez' || path === '/healthz')
      return [path.slice(1), liveAnswer(appVersion, verbose, path)];
    const meta = { version: appVersion, draining: source.draining };
    if (path === '/readyz') return ['readyz', readyAnswer(source.states(), meta, verbose)];
    if (path.startsWith('/readyz/')) {
      const s = source.state(decodeURIComponent(path.slice(8)));
      if (s) return ['readyz_check', checkAnswer(s, meta, verbose)];
    }
    return [
      'other',
      notFound(
        path,
        source.states().map((s) => s.check.name),
      ),
    ];
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return send(res, METHOD_NOT_ALLOWED, false, 'other');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const verbose = q >= 0 && /(?:^|&)verbose(?:[=&]|$)/.test(url.slice(q + 1));
    if (source.version !== cachedVersion || source.draining !== cachedDraining) {
      cache.clear();
      cachedVersion = source.version;
      cachedDraining = source.draining;
    }
    const key = verbose ? `${path}?v` : path;
    let hit = cache.get(key);
    let endpoint: string;
    if (hit) endpoint = endpointOf(path);
    else {
      let a: ProbeAnswer;
      try {
        [endpoint, a] = answer(path, verbose);
      } catch {
        // a malformed %-escape in /readyz/<check>
        [endpoint, a] = ['other', notFound(path, [])];
      }
      // unknown paths and %-escaped spellings of known ones are not cached, so random URLs
      // cannot grow the cache
      if (endpoint !== 'other' && !path.includes('%')) cache.set(key, a);
      hit = a;
    }
    send(res, hit, method === 'HEAD', endpoint);
  };

  const send = (res: ServerResponse, a: ProbeAnswer, head: boolean, endpoint: string) => {
    res.writeHead(a.code, a.headers);
    res.end(head ? undefined : a.body);
    count(endpoint, a.code);
  };

  return createHttpServer(
    { maxHeaderSize: 8192, headerTimeout: 5000, requestTimeout: 10_000, idleTimeout: 65_000 },
    handler,
  );
}

function endpointOf(path: string): string {
  return path === '/readyz' ? 'readyz' : path.startsWith('/readyz/') ? 'readyz_check' : path.slice(1);
}
