import type { ProxyRequest } from '@dds/core/http/proxy-contract';
import type { PolicyConfig } from './schema.js';

/** What policies read of a request: its head. */
export type PolicyRequest = Pick<ProxyRequest, 'method' | 'url' | 'headers'>;

export type RequestMatcher = (req: PolicyRequest) => boolean;

/** Compiles a policy's `match` block; every condition given must hold (an empty one matches all). */
export function requestMatcher(m: PolicyConfig['match']): RequestMatcher {
  const tests: RequestMatcher[] = [];
  if (m.methods?.length) {
    const methods = new Set(m.methods.map((x) => x.toUpperCase()));
    tests.push((req) => methods.has(req.method));
  }
  if (m.hosts?.length) {
    const exact = new Set<string>();
    const suffixes: string[] = [];
    for (const h of m.hosts.map((x) => x.toLowerCase())) {
      if (h.startsWith('*.')) suffixes.push(h.slice(1));
      else exact.add(h);
    }
    tests.push((req) => {
      const host = hostName(req.headers.host ?? (req.headers[':authority'] as string | undefined));
      if (host === undefined) return false;
      if (exact.has(host)) return true;
      for (const s of suffixes) if (host.endsWith(s)) return true;
      return false;
    });
  }
  if (m.pathPrefix !== undefined) {
    const prefix = m.pathPrefix;
    tests.push((req) => (req.url ?? '').startsWith(prefix));
  }
  if (m.headers) {
    for (const [name, want] of Object.entries(m.headers)) {
      const lower = name.toLowerCase();
      tests.push(
        want === '*'
          ? (req) => req.headers[lower] !== undefined
          : (req) => {
              const v = req.headers[lower];
              return Array.isArray(v) ? v.includes(want) : v === want;
            },
      );
    }
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (req) => {
    for (const t of tests) if (!t(req)) return false;
    return true;
  };
}

/** Host without port, lower-cased; `[::1]:80` -> `::1`. */
export function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? undefined : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}
