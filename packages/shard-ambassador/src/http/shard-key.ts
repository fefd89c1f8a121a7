import { cookieValue } from '@dds/core/http/cookie';
import { headerKey, parseKeySource } from '@dds/core/http/key-source';
import type { ProxyRequest } from '@dds/core/http/proxy-contract';

/** What a shard key is read from. */
type KeyedRequest = Pick<ProxyRequest, 'url' | 'headers'>;

/** Extracts the shard key of an HTTP request; falls back to the URI when the source is absent. */
export type ShardKeyFn = (req: KeyedRequest) => string;

const SYNTAX = 'uri, path, header:NAME, cookie:NAME or query:NAME';

/**
 * Checks a shard key spec: `uri`, `path`, `query:NAME`, or one of core's key sources `header:NAME`
 * and `cookie:NAME` (read with core's semantics, the same as the splitter's and the rate limiter's
 * keys: a quoted cookie value loses its quotes). A string is the error.
 */
export function checkShardKey(spec: string): string | undefined {
  if (spec === 'uri' || spec === 'path') return undefined;
  if (spec.startsWith('query:')) return /^query:[^=&\s]+$/.test(spec) ? undefined : `"${spec}" needs a name`;
  if (spec === 'ip') return `unknown key "ip": expected ${SYNTAX}`;
  const r = parseKeySource(spec, SYNTAX);
  return typeof r === 'string' ? r : undefined;
}

/** `uri` (path and query, like nginx $request_uri), `path`, `header:NAME`, `cookie:NAME`, `query:NAME`. */
export function shardKey(spec: string): ShardKeyFn {
  const uri = (req: KeyedRequest) => req.url;
  if (spec === 'uri') return uri;
  if (spec === 'path')
    return (req) => {
      const u = uri(req);
      const q = u.indexOf('?');
      return q < 0 ? u : u.slice(0, q);
    };
  if (spec.startsWith('query:')) {
    const name = spec.slice(6);
    return (req) => {
      const u = uri(req);
      const q = u.indexOf('?');
      return q < 0 ? u : (new URLSearchParams(u.slice(q + 1)).get(name) ?? u);
    };
  }
  const src = parseKeySource(spec);
  if (typeof src === 'string' || src.kind === 'ip') throw new Error(`shard_key: ${checkShardKey(spec)}`);
  if (src.kind === 'header') return (req) => headerKey(req.headers, src.name) ?? uri(req);
  return (req) => cookieValue(req.headers.cookie, src.name) ?? uri(req);
}
