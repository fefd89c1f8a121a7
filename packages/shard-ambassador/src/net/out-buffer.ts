import { copyBytes } from './copy-bytes.js';

/**
 * Bytes waiting to be written to one socket, copied into a slab. take() hands the pending bytes
 * over as one Buffer (a view of the slab) for a single write; that region is never written
 * again, so the write may complete whenever it likes, and the slab is dropped for a new one
 * when it is used up (garbage collected once its writes are done).
 */
export class OutBuffer {
  private slab: Buffer | null = null;
  private start = 0;
  private end = 0;

  /** `slabSize`: the usual size of a new slab (an idle connection keeps at most one) */
  constructor(private readonly slabSize = 16 * 1024) {}

  get length(): number {
    return this.end - this.start;
  }

  /** Appends src[from, to). */
  append(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    const slab = this.reserve(n); // may move the pending bytes to a new slab: read `end` after it
    this.end += copyBytes(src, from, to, slab, this.end);
  }

  /** Appends a whole buffer. */
  push(src: Uint8Array): void {
    this.append(src, 0, src.length);
  }

  /** Room for n more bytes at `end` (for writers that encode in place); returns the slab. */
  reserve(n: number): Buffer {
    if (this.slab !== null && this.end + n <= this.slab.length) return this.slab;
    const pending = this.end - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.slabSize, 2 * (pending + n)));
    if (pending > 0) this.slab!.copy(next, 0, this.start, this.end);
    this.slab = next;
    this.start = 0;
    this.end = pending;
    return next;
  }

  /** After writing n bytes into the slab at `end` (see reserve). */
  advance(n: number): void {
    this.end += n;
  }

  get writeOffset(): number {
    return this.end;
  }

  /** The pending bytes, to be written now; they are not reused. */
  take(): Buffer {
    const b = this.slab!.subarray(this.start, this.end);
    this.start = this.end;
    // an almost used slab, or one grown for a large reply, is not kept: the next append starts
    // a new one (an idle connection does not hold a big slab)
    if (this.slab!.length - this.end < this.slabSize / 16 || this.slab!.length > 4 * this.slabSize) {
      this.slab = null;
      this.start = 0;
      this.end = 0;
    }
    return b;
  }

  clear(): void {
    this.start = this.end;
  }
}
