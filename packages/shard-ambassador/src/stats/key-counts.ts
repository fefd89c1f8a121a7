/** Keys are counted by their first bytes (as hot-key reports show them). */
export const KEY_PREFIX = 256;

/**
 * Request counts per (pool, key) for one time slice, looked up straight from request bytes: an
 * open-addressing table of hashes and counts, the key's string made only when a key is first
 * counted. A Map keyed by strings made a string and hashed it for every counted request, and
 * walked a large hash table: about a tenth of the proxy's CPU at -P 1. Holds at most
 * `maxKeys` keys; later new keys are not counted (hot ones are already in).
 */
export class KeyCounts {
  /**
   * per slot i: [3i] the key's hash (0: empty), [3i + 1] its count, [3i + 2] its pool, side by
   * side so that a probe touches one cache line; allocated on the first add (an idle proxy
   * does not hold the tables)
   */
  private slots = EMPTY;
  private keys: (string | undefined)[] = [];
  private readonly mask: number;
  private size = 0;

  constructor(readonly maxKeys: number) {
    let slots = 16;
    while (slots < maxKeys * 1.5) slots *= 2;
    this.mask = slots - 1;
  }

  private allocate(): void {
    const n = this.mask + 1;
    this.slots = new Int32Array(3 * n);
    this.keys = new Array<string | undefined>(n).fill(undefined);
  }

  get length(): number {
    return this.size;
  }

  /** Counts one request for key buf[start, end) (its first KEY_PREFIX bytes) in pool `pool`. */
  add(pool: number, buf: Uint8Array, start: number, end: number): void {
    const stop = Math.min(end, start + KEY_PREFIX);
    let h = Math.imul(0x811c9dc5 ^ pool, 0x01000193);
    for (let i = start; i < stop; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h |= 1; // 0 marks an empty slot
    if (this.slots === EMPTY) this.allocate();
    const slots = this.slots;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const at = slots[3 * i]!;
      if (at === 0) {
        if (this.size >= this.maxKeys) return;
        slots[3 * i] = h;
        slots[3 * i + 1] = 1;
        slots[3 * i + 2] = pool;
        this.keys[i] = latin1(buf, start, stop);
        this.size++;
        return;
      }
      if (at === h && slots[3 * i + 2] === pool && same(this.keys[i]!, buf, start, stop)) {
        slots[3 * i + 1]!++;
        return;
      }
    }
  }

  /** Calls fn for every counted key. */
  forEach(fn: (pool: number, key: string, count: number) => void): void {
    const slots = this.slots;
    if (slots === EMPTY) return;
    for (let i = 0; i <= this.mask; i++)
      if (slots[3 * i] !== 0) fn(slots[3 * i + 2]!, this.keys[i]!, slots[3 * i + 1]!);
  }

  clear(): void {
    if (this.size === 0) return;
    this.slots.fill(0);
    this.keys.fill(undefined);
    this.size = 0;
  }
}

const EMPTY = new Int32Array(0);

function same(key: string, buf: Uint8Array, start: number, stop: number): boolean {
  if (key.length !== stop - start) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

function latin1(buf: Uint8Array, start: number, stop: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, stop - start).toString('latin1');
}
