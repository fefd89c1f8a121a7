import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { type FileHandle, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT_BYTES = 8 << 20;
const segName = (seq: number) => `${String(seq).padStart(12, '0')}.ndjson`;

/**
 * A bounded on-disk queue of NDJSON records for one output (`--output-policy NAME=spool`):
 * batches are appended to segment files and fsynced before the inputs' positions may move past
 * them; the output reads them back in order, and a cursor file remembers how far delivery got, so
 * a restart resends at most the batch that was in flight. Delivered segments are deleted.
 */
export class Spool {
  private segments: number[] = [];
  private readSeq = 0;
  private readOffset = 0;
  private writer: FileHandle | undefined;
  private writeSeq = 0;
  private writeSize = 0;
  private bytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private peeked = 0;

  constructor(
    private readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.segments = readdirSync(dir)
      .filter((n) => /^\d{12}\.ndjson$/.test(n))
      .map((n) => Number(n.slice(0, 12)))
      .sort((a, b) => a - b);
    let cursor = { segment: this.segments[0] ?? 1, offset: 0 };
    const cursorFile = join(dir, 'cursor.json');
    if (existsSync(cursorFile)) {
      try {
        cursor = JSON.parse(readFileSync(cursorFile, 'utf8')) as typeof cursor;
      } catch {
        // a torn cursor resends the oldest segment: duplicates, never a loss
      }
    }
    this.segments = this.segments.filter((s) => s >= cursor.segment);
    this.readSeq = this.segments[0] ?? cursor.segment;
    this.readOffset = this.segments[0] === cursor.segment ? cursor.offset : 0;
    for (const s of this.segments) {
      const path = join(dir, segName(s));
      let size = statSync(path).size;
      if (s === this.segments[this.segments.length - 1]) size = cutTorn(path, size);
      this.bytes += size;
    }
    this.bytes -= this.readOffset;
    this.writeSeq = this.segments[this.segments.length - 1] ?? this.readSeq;
  }

  /** Bytes waiting for delivery. */
  size(): number {
    return this.bytes;
  }

  full(): boolean {
    return this.bytes >= this.maxBytes;
  }

  /** Appends whole lines; resolves once they are on disk (fsynced). */
  append(data: string): Promise<void> {
    const run = this.chain.then(async () => {
      if (!this.writer || this.writeSize >= SEGMENT_BYTES) {
        await this.writer?.close();
        if (this.writer || this.segments.includes(this.writeSeq)) this.writeSeq++;
        this.writer = await open(join(this.dir, segName(this.writeSeq)), 'a');
        this.writeSize = (await this.writer.stat()).size;
        if (!this.segments.includes(this.writeSeq)) this.segments.push(this.writeSeq);
      }
      const buf = Buffer.from(data);
      await this.writer.write(buf);
      await this.writer.datasync();
      this.writeSize += buf.length;
      this.bytes += buf.length;
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Up to `max` bytes of whole lines from the read cursor ('' when empty). */
  async peek(max: number): Promise<string> {
    await this.chain;
    for (;;) {
      if (this.segments.length === 0) return '';
      const path = join(this.dir, segName(this.readSeq));
      const fh = await open(path, 'r').catch(() => undefined);
      if (!fh) {
        this.dropSegment();
        continue;
      }
      try {
        const size = (await fh.stat()).size;
        const want = Math.min(max, size - this.readOffset);
        if (want <= 0) {
          if (this.readSeq === this.writeSeq && this.writer) return '';
          await fh.close();
          await rm(path, { force: true });
          this.dropSegment();
          continue;
        }
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, this.readOffset);
        let end = buf.subarray(0, bytesRead).lastIndexOf(10) + 1;
        if (end === 0) {
          // one line longer than max: read it whole
          const rest = Buffer.allocUnsafe(size - this.readOffset);
          const r = await fh.read(rest, 0, rest.length, this.readOffset);
          end = rest.subarray(0, r.bytesRead).indexOf(10) + 1;
          if (end === 0) return '';
          this.peeked = end;
          return rest.toString('utf8', 0, end);
        }
        this.peeked = end;
        return buf.toString('utf8', 0, end);
      } finally {
        await fh.close().catch(() => {});
      }
    }
  }

  /** Moves the cursor past what the last peek returned (it was delivered). */
  async commit(): Promise<void> {
    this.readOffset += this.peeked;
    this.bytes -= this.peeked;
    this.peeked = 0;
    await writeFile(
      join(this.dir, 'cursor.json'),
      JSON.stringify({ segment: this.readSeq, offset: this.readOffset }),
    );
  }

  private dropSegment(): void {
    this.segments.shift();
    this.readSeq = this.segments[0] ?? this.writeSeq;
    this.readOffset = 0;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.writer?.close().catch(() => {});
    this.writer = undefined;
  }
}

/** A crash mid-append leaves half a line at the end: it was never acknowledged, so cut it. */
function cutTorn(path: string, size: number): number {
  if (size === 0) return 0;
  const data = readFileSync(path);
  const end = data.lastIndexOf(10) + 1;
  if (end < size) truncateSync(path, end);
  return end;
}
