/** Where split lines go (SourcePipeline implements it). */
export interface LineSink {
  beginChunk(text: string, base: number, observed: string): void;
  line(raw: string, at: number, originalSize: number): void;
}

/**
 * Splits a byte stream into lines. Each chunk's complete lines are decoded with one toString
 * and split by indexOf. A line longer than `max` is cut to `max` and marked with its original
 * size; an unterminated line never holds more than `max` bytes (the rest is counted, not kept),
 * so binary garbage without newlines cannot grow memory or stall the reader.
 */
export class LineSplitter {
  private head: Buffer | null = null;
  private headBase = 0;
  private over = 0;
  /** byte offset just after the last complete line */
  consumed: number;

  constructor(
    private readonly max: number,
    start = 0,
  ) {
    this.consumed = start;
  }

  /** Splits `chunk`, which starts at byte `base` of the source. */
  push(chunk: Buffer, base: number, sink: LineSink, observed: string): void {
    let start = 0;
    if (this.head !== null) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.extendHead(chunk, 0);
        return;
      }
      const whole = this.head.length + this.over + nl;
      const text =
        this.over === 0 && whole <= this.max ? Buffer.concat([this.head, chunk.subarray(0, nl)]) : this.head;
      const s = text.toString('utf8');
      sink.beginChunk(s, this.headBase, observed);
      sink.line(s, 0, whole > this.max ? whole : 0);
      this.head = null;
      this.over = 0;
      start = nl + 1;
      this.consumed = base + start;
    }
    const last = chunk.lastIndexOf(10);
    if (last >= start) {
      const text = chunk.toString('utf8', start, last);
      sink.beginChunk(text, base + start, observed);
      const max = this.max;
      let i = 0;
      for (;;) {
        const nl = text.indexOf('\n', i);
        const end = nl < 0 ? text.length : nl;
        if (end - i > max) sink.line(text.slice(i, i + max), i, Buffer.byteLength(text.slice(i, end)));
        else sink.line(text.slice(i, end), i, 0);
        if (nl < 0) break;
        i = nl + 1;
      }
      start = last + 1;
      this.consumed = base + start;
    }
    if (start < chunk.length) {
      this.headBase = base + start;
      this.extendHead(chunk, start);
    }
  }

  private extendHead(chunk: Buffer, from: number): void {
    const have = this.head?.length ?? 0;
    const take = Math.min(chunk.length - from, this.max - have);
    if (take > 0) {
      const part = Buffer.from(chunk.subarray(from, from + take)); // copy: the read buffer is reused
      this.head = this.head === null ? part : Buffer.concat([this.head, part]);
    } else if (this.head === null) this.head = Buffer.alloc(0);
    this.over += chunk.length - from - take;
  }

  /** Bytes of an unterminated line held (or skipped) so far. */
  pendingBytes(): number {
    return (this.head?.length ?? 0) + this.over;
  }

  /** Emits an unterminated last line (end of stdin, a rotated file that will not grow). */
  flush(sink: LineSink, observed: string): void {
    if (this.head === null) return;
    const s = this.head.toString('utf8');
    const whole = this.head.length + this.over;
    sink.beginChunk(s, this.headBase, observed);
    sink.line(s, 0, this.over > 0 ? whole : 0);
    this.consumed = this.headBase + whole;
    this.head = null;
    this.over = 0;
  }
}
