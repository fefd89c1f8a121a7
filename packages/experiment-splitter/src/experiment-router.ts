/**
 * Finds the experiment for a request by Host and path prefix with precomputed tables: a map
 * from host to its routes (longest prefix first) and the host-independent routes after them.
 */
export class ExperimentRouter<T> {
  private readonly byHost = new Map<string, Array<{ prefix: string; target: T }>>();
  private readonly any: Array<{ prefix: string; target: T }> = [];

  constructor(routes: ReadonlyArray<{ hosts: readonly string[]; prefix: string; target: T }>) {
    const sorted = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
    for (const r of sorted) {
      if (!r.hosts.length) this.any.push({ prefix: r.prefix, target: r.target });
      for (const h of r.hosts) {
        const host = h.toLowerCase();
        const list = this.byHost.get(host) ?? [];
        this.byHost.set(host, list);
        list.push({ prefix: r.prefix, target: r.target });
      }
    }
  }

  match(hostHeader: string | undefined, url: string): T | undefined {
    if (this.byHost.size && hostHeader) {
      const list = this.byHost.get(hostOnly(hostHeader));
      if (list) for (const r of list) if (url.startsWith(r.prefix)) return r.target;
    }
    for (const r of this.any) if (url.startsWith(r.prefix)) return r.target;
    return undefined;
  }
}

/** `Example.com:8080` -> `example.com`, `[::1]:80` -> `[::1]`. */
export function hostOnly(h: string): string {
  const end = h.charCodeAt(0) === 91 /* [ */ ? h.indexOf(']') + 1 : h.indexOf(':');
  return (end > 0 ? h.slice(0, end) : h).toLowerCase();
}
