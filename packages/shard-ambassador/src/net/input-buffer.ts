/**
 * Collects the unparsed tail of a stream. A frame split over many chunks is joined once, when
 * enough bytes have arrived (the parser tells how many it needs), not on every chunk.
 */
export class InputBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  private need = 0;

  /** Adds a chunk; returns the bytes to parse now, or null while a known-size frame is incomplete. */
  push(chunk: Buffer): Buffer | null {
    if (this.size === 0) return chunk;
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size < this.need) return null;
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return all;
  }

  /** Keeps buf[from..] for later; `need` is the least total size that can complete the frame. */
  keep(buf: Buffer, from: number, need: number): void {
    if (from >= buf.length) return;
    const rest = buf.subarray(from);
    this.parts = [rest];
    this.size = rest.length;
    this.need = Math.max(need, rest.length + 1);
  }

  get buffered(): number {
    return this.size;
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
  }
}
