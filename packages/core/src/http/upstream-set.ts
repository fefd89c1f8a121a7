import { createUpstream, type Upstream, type UpstreamOptions } from './upstream.js';

/**
 * The upstreams of a component across config reloads. A build (begin, get per upstream the new
 * config names, then commit) hands out the running upstream where the URL and options are
 * unchanged, so its keep-alive connections carry on; an upstream the new config no longer uses
 * closes once its requests are done. A build that is refused (abort) closes only what it made.
 * Options with functions (a TLS context) compare by `identity`, which the caller changes when
 * the function's meaning changes.
 */
export class UpstreamSet {
  private live = new Map<string, Upstream>();
  private building: Map<string, Upstream> | undefined;

  /** Starts a build (a fresh config). */
  begin(): void {
    this.building = new Map();
  }

  /** The upstream of `url` with `opts` for the config being built (or, outside a build, the running one). */
  get(url: string, opts: UpstreamOptions = {}, identity = ''): Upstream {
    const key = `${url}\u0000${identity}\u0000${JSON.stringify(opts, plain)}`;
    const into = this.building ?? this.live;
    let u = into.get(key) ?? this.live.get(key);
    if (u === undefined) u = createUpstream(url, opts);
    into.set(key, u);
    return u;
  }

  /** Makes the build the running set; the upstreams it did not take close once idle. */
  commit(): void {
    const next = this.building;
    if (next === undefined) return;
    this.building = undefined;
    for (const [key, u] of this.live) if (!next.has(key)) void u.close().catch(() => {});
    this.live = next;
  }

  /** Drops a refused build: what it created (and the running set does not use) is closed. */
  abort(): void {
    const next = this.building;
    this.building = undefined;
    if (next === undefined) return;
    const running = new Set(this.live.values());
    for (const u of next.values()) if (!running.has(u)) void u.close().catch(() => {});
  }

  /** The running upstreams. */
  values(): IterableIterator<Upstream> {
    return this.live.values();
  }

  /** Closes every upstream (drain): started requests finish first. */
  async close(): Promise<void> {
    this.abort();
    const all = [...this.live.values()];
    this.live.clear();
    await Promise.all(all.map((u) => u.close().catch(() => {})));
  }
}

/** JSON of options without their functions (those compare by the identity given). */
function plain(_key: string, value: unknown): unknown {
  return typeof value === 'function' ? undefined : value;
}
