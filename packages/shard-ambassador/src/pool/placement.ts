import type { PoolConfig } from '../config/pool-schema.js';
import type { ServerSpec } from '../config/server-spec.js';
import { buildDistribution, type Distribution, type DistributionName } from '../distribution/index.js';
import { type HashFn, hashNamed } from '../hash/index.js';

/**
 * Key -> server index, exactly as twemproxy's server_pool_idx: one server needs no hashing,
 * a hash_tag narrows the hashed bytes to what sits between its two characters (if non-empty),
 * an empty key hashes to 0.
 */
export class Placement {
  private readonly hash: HashFn;
  private readonly tagOpen: number;
  private readonly tagClose: number;
  private dist: Distribution;
  readonly kind: DistributionName;

  constructor(
    cfg: Pick<PoolConfig, 'hash' | 'hash_tag' | 'distribution'>,
    private readonly servers: readonly ServerSpec[],
  ) {
    this.hash = hashNamed(cfg.hash);
    this.kind = cfg.distribution;
    this.tagOpen = cfg.hash_tag ? cfg.hash_tag.charCodeAt(0) : -1;
    this.tagClose = cfg.hash_tag ? cfg.hash_tag.charCodeAt(1) : -1;
    this.dist = this.build(() => true);
  }

  /**
   * Rebuilds the distribution over the servers `live` accepts (auto-ejection). twemproxy sorts
   * a pool's servers by name (shorter names first, then bytewise) while checking for duplicates
   * and keeps that order, which decides modula placement; so do we.
   */
  build(live: (index: number) => boolean): Distribution {
    const list = this.servers
      .map((s, index) => ({ index, name: s.name, weight: s.weight }))
      .sort((a, b) => byNutcrackerName(a.name, b.name))
      .filter((s) => live(s.index));
    this.dist = buildDistribution(this.kind, list);
    return this.dist;
  }

  get liveCount(): number {
    return this.dist.size;
  }

  /** Hash of the key bytes buf[start, end) after hash_tag narrowing. */
  keyHash(buf: Buffer, start: number, end: number): number {
    if (this.tagOpen >= 0) {
      const open = find(buf, this.tagOpen, start, end);
      if (open >= 0) {
        const close = find(buf, this.tagClose, open + 1, end);
        if (close > open + 1) {
          start = open + 1;
          end = close;
        }
      }
    }
    if (end === start) return 0;
    return this.hash(buf, start, end);
  }

  /** Index of the server for a key, or -1 when no server is live. */
  index(buf: Buffer, start: number, end: number): number {
    if (this.servers.length === 1) return 0;
    if (this.dist.size === 0) return -1;
    return this.dist.dispatch(this.keyHash(buf, start, end));
  }
}

function find(buf: Buffer, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/** twemproxy's string_compare: by length, then bytewise. */
function byNutcrackerName(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length !== y.length ? x.length - y.length : Buffer.compare(x, y);
}
