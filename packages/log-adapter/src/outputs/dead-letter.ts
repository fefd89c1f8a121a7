import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Batches an output gave up on (refused for good, or out of retries) appended as NDJSON to
 * `<--dead-letter-dir>/<output>.ndjson` and fsynced, so they can be inspected and replayed. When
 * the file would grow past its bound, `write` answers false and the output holds the batch instead.
 */
export class DeadLetter {
  private fh: FileHandle | undefined;
  private size = -1;
  private chain: Promise<unknown> = Promise.resolve();
  readonly path: string;

  constructor(
    dir: string,
    output: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `${output}.ndjson`);
  }

  write(body: string): Promise<boolean> {
    const run = this.chain.then(async () => {
      if (!this.fh) {
        this.fh = await open(this.path, 'a');
        this.size = (await this.fh.stat()).size;
      }
      const buf = Buffer.from(body);
      if (this.size + buf.length > this.maxBytes) return false;
      await this.fh.write(buf);
      await this.fh.datasync();
      this.size += buf.length;
      return true;
    });
    this.chain = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
  }
}
