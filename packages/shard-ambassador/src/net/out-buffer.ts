import { READ_BUFFER } from '@dds/core/net/read-buffer';
import { copyBytes, copyView, READ_VIEW, VIEW_COPY_MAX } from './copy-bytes.js';

/**
 * Bytes waiting to be written to one socket, copied into a slab. take() hands the pending bytes
 * over as one Buffer (a view of the slab) for a single write; that region is not written again
 * until the owner says the kernel has all of it (written()), so a write may complete whenever it
 * likes. A slab that is used up is dropped for a new one (garbage collected once its writes are
 * done). With written() after every write that went out at once, which is the common case, one
 * slab and the view of its start serve every write of a connection: no allocation per write.
 */
export class OutBuffer {
  private slab: Buffer | null = null;
  /** a DataView of the slab (copies out of the shared read buffer, see copyView) */
  private slabView: DataView | null = null;
  private start = 0;
  private end = 0;
  /** the last view take() made: slab[viewStart, viewStart + view.length) of viewSlab */
  private view: Buffer | null = null;
  private viewSlab: Buffer | null = null;
  private viewStart = 0;

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
    // requests and replies are mostly copied straight out of the shared read buffer
    if (src === READ_BUFFER && n <= VIEW_COPY_MAX)
      this.end += copyView(READ_VIEW, from, to, this.slabView!, this.end);
    else this.end += copyBytes(src, from, to, slab, this.end);
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
    this.slabView = new DataView(next.buffer, next.byteOffset, next.length);
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

  /** The pending bytes, to be written now; their room is not reused before written(). */
  take(): Buffer {
    const slab = this.slab!;
    const start = this.start;
    const n = this.end - start;
    let b = this.view;
    if (b === null || b.length !== n || this.viewStart !== start || this.viewSlab !== slab) {
      b = slab.subarray(start, this.end);
      this.view = b;
      this.viewSlab = slab;
      this.viewStart = start;
    }
    this.start = this.end;
    // a slab grown for a large reply is not kept (an idle connection does not hold a big slab)
    if (slab.length > 4 * this.slabSize) {
      this.slab = null;
      this.slabView = null;
      this.view = null;
      this.viewSlab = null;
      this.start = 0;
      this.end = 0;
    }
    return b;
  }

  /**
   * Everything take() returned so far has reached the kernel (the socket queues nothing): the
   * slab is filled from its start again.
   */
  written(): void {
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  clear(): void {
    this.start = this.end;
  }
}
