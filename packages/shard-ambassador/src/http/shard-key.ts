import type { IncomingMessage } from 'node:http';

/** Extracts the shard key of an HTTP request; falls back to the URI when the source is absent. */
export type ShardKeyFn = (req: IncomingMessage) => string;

/** `uri` (path and query, like nginx $request_uri), `path`, `header:NAME`, `cookie:NAME`, `query:NAME`. */
export function shardKey(spec: string): ShardKeyFn {
  const uri = (req: IncomingMessage) => req.url ?? '/';
  if (spec === 'uri') return uri;
  if (spec === 'path')
    return (req) => {
      const u = uri(req);
      const q = u.indexOf('?');
      return q < 0 ? u : u.slice(0, q);
    };
  const colon = spec.indexOf(':');
  const kind = spec.slice(0, colon);
  const name = spec.slice(colon + 1);
  if (kind === 'header') {
    const h = name.toLowerCase();
    return (req) => {
      const v = req.headers[h];
      return (Array.isArray(v) ? v[0] : v) ?? uri(req);
    };
  }
  if (kind === 'cookie') return (req) => cookie(req.headers.cookie, name) ?? uri(req);
  return (req) => {
    const u = uri(req);
    const q = u.indexOf('?');
    return q < 0 ? u : (new URLSearchParams(u.slice(q + 1)).get(name) ?? u);
  };
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
