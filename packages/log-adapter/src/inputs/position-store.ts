import { existsSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Fingerprint } from './fingerprint.js';

export interface Position {
  path: string;
  offset: number;
  fp: Fingerprint;
}

/**
 * Read offsets of tailed files, keyed by `dev:inode` and checked against a fingerprint of the
 * file's first bytes. Saved atomically (temp file + rename) and only with offsets the output has
 * accepted, so a restart resumes exactly after the last line written out.
 */
export class PositionStore {
  private readonly entries = new Map<string, Position>();
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();
  /** the file existed but could not be read: the caller logs it, the adapter starts over */
  corrupt = false;

  constructor(readonly file: string | undefined) {
    if (!file || !existsSync(file)) return;
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { files?: Record<string, Position> };
      for (const [k, v] of Object.entries(doc.files ?? {})) {
        if (typeof v?.offset === 'number' && typeof v.fp?.hash === 'string') this.entries.set(k, v);
      }
    } catch {
      // a corrupt position file must not stop the adapter: start over (logged by the caller)
      this.entries.clear();
      this.corrupt = true;
    }
  }

  get(key: string): Position | undefined {
    return this.entries.get(key);
  }

  /** An entry whose fingerprint matches (a file that changed inode, e.g. a re-mounted volume). */
  findByFingerprint(fp: Fingerprint): [string, Position] | undefined {
    if (fp.len === 0) return undefined;
    for (const e of this.entries) if (e[1].fp.len === fp.len && e[1].fp.hash === fp.hash) return e;
    return undefined;
  }

  all(): IterableIterator<[string, Position]> {
    return this.entries.entries();
  }

  set(key: string, pos: Position): void {
    const cur = this.entries.get(key);
    if (cur && cur.offset === pos.offset && cur.path === pos.path && cur.fp.hash === pos.fp.hash) return;
    this.entries.set(key, pos);
    this.dirty = true;
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.dirty = true;
  }

  /**
   * Writes the file if anything changed since the last save: temp file, fsync, rename, fsync of
   * the directory, so after a crash (even of the machine) the file holds either the old or the new
   * positions. A failed write leaves the store dirty, so the next save retries it.
   */
  save(): Promise<void> {
    if (!this.file || !this.dirty) return this.saving;
    this.dirty = false;
    const file = this.file;
    const body = `${JSON.stringify({ version: 1, files: Object.fromEntries(this.entries) }, null, 1)}\n`;
    const run = this.saving.then(async () => {
      const tmp = `${file}.tmp`;
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      const dir = await open(dirname(file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    });
    this.saving = run.catch(() => {
      this.dirty = true;
    });
    return run;
  }
}
