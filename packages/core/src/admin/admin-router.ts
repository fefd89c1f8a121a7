import type { IncomingHttpHeaders } from 'node:http';

/** One admin request as a route handler sees it. */
export interface AdminRequest<P extends Record<string, string> = Record<string, string>> {
  readonly method: string;
  /** the path without the query string, e.g. `/experiments/checkout/reset` */
  readonly path: string;
  /** `:name` segments of the route */
  readonly params: P;
  /** query string values (the first of repeated keys) */
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: IncomingHttpHeaders;
}

/** How a handler sets the status and headers; its return value (or send()) is the body. */
export interface AdminReply {
  code(status: number): this;
  header(name: string, value: string): this;
  /** the content-type */
  type(contentType: string): this;
  /** the body: a string is sent as it is (text/plain unless a content-type was set), anything else as JSON */
  send(body: unknown): this;
}

export type AdminHandler<P extends Record<string, string> = Record<string, string>> = (
  req: AdminRequest<P>,
  reply: AdminReply,
) => unknown;

/** What a component's `adminRoutes()` adds its routes to: a few fixed paths, no framework. */
export interface AdminRoutes {
  get<P extends Record<string, string> = Record<string, string>>(
    path: string,
    handler: AdminHandler<P>,
  ): void;
  post<P extends Record<string, string> = Record<string, string>>(
    path: string,
    handler: AdminHandler<P>,
  ): void;
}

interface Route {
  method: 'GET' | 'POST';
  /** literal segments, or `:name` */
  segments: string[];
  handler: AdminHandler;
}

/** A matched route, or why none matched (404 no path, 405 path with other methods). */
export type RouteMatch =
  | { handler: AdminHandler; params: Record<string, string> }
  | { status: 404 }
  | { status: 405; allow: string };

/**
 * The admin port's routing table. The port serves a handful of fixed paths, so routes are a list
 * scanned in order: exact segments, `:param` segments, GET routes also answer HEAD.
 */
export class AdminRouter implements AdminRoutes {
  private readonly routes: Route[] = [];

  get<P extends Record<string, string>>(path: string, handler: AdminHandler<P>): void {
    this.add('GET', path, handler as AdminHandler);
  }

  post<P extends Record<string, string>>(path: string, handler: AdminHandler<P>): void {
    this.add('POST', path, handler as AdminHandler);
  }

  private add(method: Route['method'], path: string, handler: AdminHandler): void {
    if (!path.startsWith('/')) throw new TypeError(`admin route must start with /: ${path}`);
    const segments = splitPath(path);
    const clash = this.routes.find((r) => r.method === method && r.segments.join('/') === segments.join('/'));
    if (clash) throw new TypeError(`admin route ${method} ${path} is defined twice`);
    this.routes.push({ method, segments, handler });
  }

  match(method: string, path: string): RouteMatch {
    const segments = splitPath(path);
    const want = method === 'HEAD' ? 'GET' : method;
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchSegments(r.segments, segments);
      if (params === undefined) continue;
      if (r.method === want) return { handler: r.handler, params };
      allowed.push(r.method === 'GET' ? 'GET, HEAD' : r.method);
    }
    return allowed.length ? { status: 405, allow: allowed.join(', ') } : { status: 404 };
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(route: string[], path: string[]): Record<string, string> | undefined {
  if (route.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.length; i++) {
    const r = route[i]!;
    const p = path[i]!;
    if (r.startsWith(':')) {
      try {
        params[r.slice(1)] = decodeURIComponent(p);
      } catch {
        return undefined; // a malformed %-escape names nothing
      }
    } else if (r !== p) return undefined;
  }
  return params;
}
