/** Bytes of partial frames held by every InputBuffer that shares it (a process-wide budget). */
export interface InputBudget {
  held: number;
}

/**
 * The unparsed tail of a stream whose bytes arrive in a shared read buffer (READ_BUFFER): a
 * partial frame is copied here, and later chunks are appended, until the frame can complete
 * (the parser tells how many bytes it needs). The common case, whole frames in one read, is
 * parsed in place without a copy. With a budget, the bytes held are added to budget.held.
 */
export class InputBuffer {
  private store: Buffer | null = null;
  private size = 0;
  private need = 0;
  /** what to parse after push() returned true: data[0, end) */
  data: Buffer = EMPTY;
  end = 0;

  constructor(private readonly budget: InputBudget | null = null) {}

  /** Adds chunk[0, n); true when there are bytes to parse now (in data[0, end)). */
  push(chunk: Buffer, n: number): boolean {
    if (this.size === 0) {
      this.data = chunk;
      this.end = n;
      return true;
    }
    this.reserve(this.size + n);
    chunk.copy(this.store!, this.size, 0, n);
    this.size += n;
    if (this.budget !== null) this.budget.held += n;
    if (this.size < this.need) return false;
    this.data = this.store!;
    this.end = this.size;
    return true;
  }

  /** Keeps data[from, end) for later; `need` is the least total size that can complete the frame. */
  keep(from: number, need: number): void {
    const rest = this.end - from;
    if (rest <= 0) {
      this.clear();
      return;
    }
    if (this.budget !== null) this.budget.held += rest - this.size;
    if (this.data === this.store) {
      // a frame still incomplete from the start stays where it is (no copy of it per read)
      if (from > 0) this.store.copyWithin(0, from, this.end);
    } else {
      this.reserve(rest);
      this.data.copy(this.store!, 0, from, this.end);
    }
    this.size = rest;
    this.need = Math.max(need, rest + 1);
    this.data = EMPTY;
    this.end = 0;
  }

  get buffered(): number {
    return this.size;
  }

  clear(): void {
    if (this.budget !== null) this.budget.held -= this.size;
    this.size = 0;
    this.data = EMPTY;
    this.end = 0;
    // a big frame's storage is not kept for an idle connection
    if (this.store !== null && this.store.length > KEEP_STORE) this.store = null;
  }

  private reserve(total: number): void {
    if (this.store !== null && this.store.length >= total) return;
    const next = Buffer.allocUnsafe(Math.max(MIN_STORE, total, (this.store?.length ?? 0) * 2));
    if (this.store !== null && this.size > 0) this.store.copy(next, 0, 0, this.size);
    this.store = next;
  }
}

const EMPTY = Buffer.alloc(0);
const MIN_STORE = 4096;
/** an idle connection keeps at most this much (10,000 idle clients: at most 160 MiB) */
const KEEP_STORE = 16 * 1024;
