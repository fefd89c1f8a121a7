import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '@dds/core/logger';
import type { Output } from '../outputs/output.js';
import { LineSplitter } from '../pipeline/line-splitter.js';
import { type PipelineOptions, SourcePipeline } from '../pipeline/source-pipeline.js';
import { type Fingerprint, fingerprint } from './fingerprint.js';
import { baseDir, expandGlobs } from './glob.js';
import { k8sFromPath } from './k8s-log-path.js';
import type { PositionStore } from './position-store.js';

export interface TailerOptions {
  patterns: string[];
  exclude: string[];
  pollInterval: number;
  readFrom: 'head' | 'tail';
  rotateWait: number;
  fingerprintSize: number;
  chunkSize: number;
  multilineTimeout: number;
  pipeline: PipelineOptions;
  positions: PositionStore;
  output: Output;
  logger: Logger;
  onEvent(kind: 'opened' | 'rotated' | 'truncated' | 'closed'): void;
}

/** One file being followed, by its open handle: reading continues after a rename or delete. */
class TailedFile {
  /** next byte to read */
  offset: number;
  /** highest offset whose lines the output accepted */
  acked: number;
  size = 0;
  goneSince = 0;
  lastDataAt = Date.now();
  caughtUpAt = Date.now();
  readonly splitter: LineSplitter;
  pipeline: SourcePipeline;
  /** bumped on truncation: acks of batches read before it must not move the new position */
  generation = 0;

  constructor(
    readonly key: string,
    public path: string,
    readonly fh: FileHandle,
    public fp: Fingerprint,
    offset: number,
    private readonly opts: TailerOptions,
  ) {
    this.offset = offset;
    this.acked = offset;
    this.splitter = new LineSplitter(opts.pipeline.maxLineLength, offset);
    this.pipeline = this.newPipeline();
  }

  newPipeline(): SourcePipeline {
    let attrs = `,"log.file.path":${JSON.stringify(this.path)}`;
    for (const [k, v] of Object.entries(k8sFromPath(this.path)))
      attrs += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
    return new SourcePipeline(this.opts.pipeline, attrs);
  }
}

/**
 * tail -F over globs: polls the patterns, follows files by inode through renames (rotation by
 * rename: the old file is read to its end, then closed after --rotate-wait), detects
 * copytruncate (size below the read offset, or the first bytes changed), picks up new files
 * from their start, and resumes from the position file on restart.
 */
export class FileTailer {
  private readonly files = new Map<string, TailedFile>();
  private readonly buf: Buffer;
  private stopped = false;
  private first = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly watchers: FSWatcher[] = [];

  constructor(private readonly o: TailerOptions) {
    this.buf = Buffer.allocUnsafe(o.chunkSize);
  }

  start(): void {
    // inotify (where the volume supports it) only wakes the loop early; polling stays the truth
    for (const dir of new Set(this.o.patterns.map(baseDir))) {
      try {
        const w = watch(dir, { persistent: false }, () => this.wake?.());
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // not watchable (missing yet, or a volume without inotify): polling covers it
      }
    }
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.tick();
        } catch (err) {
          this.o.logger.error({ err }, 'file scan failed');
        }
        if (this.stopped) break;
        await new Promise<void>((r) => {
          const timer = setTimeout(r, this.o.pollInterval);
          this.wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        this.wake = undefined;
      }
    })();
  }

  /** Stops polling, flushes held records of every file and closes them. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    this.wake?.();
    await this.loop;
    for (const f of this.files.values()) {
      f.splitter.flush(f.pipeline, new Date().toISOString());
      f.pipeline.flush(true);
      this.send(f, f.splitter.consumed);
    }
  }

  async closeFiles(): Promise<void> {
    for (const f of this.files.values()) await f.fh.close().catch(() => {});
    this.files.clear();
  }

  /** Lag: bytes not yet accepted by the output, and seconds since each file was last caught up. */
  lag(): { bytes: number; seconds: number; files: number } {
    let bytes = 0;
    let seconds = 0;
    const now = Date.now();
    for (const f of this.files.values()) {
      const behind = Math.max(0, f.size - f.acked);
      bytes += behind;
      if (behind > 0) seconds = Math.max(seconds, (now - f.caughtUpAt) / 1000);
    }
    return { bytes, seconds, files: this.files.size };
  }

  private async tick(): Promise<void> {
    await this.scan();
    const now = Date.now();
    for (const f of [...this.files.values()]) {
      await this.readAvailable(f);
      if (f.offset >= f.size) {
        f.caughtUpAt = now;
        if (f.pipeline.holding() && now - f.lastDataAt >= this.o.multilineTimeout) {
          f.pipeline.flush(true);
          this.send(f, f.splitter.consumed);
        }
      }
      if (f.goneSince && f.offset >= f.size && now - f.goneSince >= this.o.rotateWait) await this.retire(f);
    }
    this.first = false;
  }

  private async scan(): Promise<void> {
    const seen = new Set<string>();
    for (const path of await expandGlobs(this.o.patterns)) {
      if (this.o.exclude.includes(path)) continue;
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      const key = `${st.dev}:${st.ino}`;
      seen.add(key);
      const known = this.files.get(key);
      if (known) {
        if (known.path !== path) {
          this.o.logger.info({ from: known.path, to: path }, 'file renamed');
          known.path = path;
        }
        known.goneSince = 0;
        continue;
      }
      await this.track(path, key, st.size);
    }
    if (this.first) await this.findRotatedWhileStopped(seen);
    for (const f of this.files.values()) {
      if (!seen.has(f.key) && f.goneSince === 0) {
        f.goneSince = Date.now();
        this.o.onEvent('rotated');
        this.o.logger.info({ path: f.path }, 'file rotated away or deleted; reading it to the end');
      }
    }
  }

  private async track(path: string, key: string, size: number, gone = false): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      this.o.logger.warn({ path, error: (err as Error).message }, 'cannot open log file');
      return;
    }
    const fp = await fingerprint(fh, size, this.o.fingerprintSize);
    let offset = 0;
    let saved = this.o.positions.get(key);
    if (
      saved &&
      !(saved.fp.len <= fp.len && (await fingerprint(fh, saved.fp.len, saved.fp.len)).hash === saved.fp.hash)
    ) {
      saved = undefined; // inode reused by another file
    }
    if (!saved) {
      const moved = this.o.positions.findByFingerprint(fp);
      if (moved && !this.files.has(moved[0])) {
        saved = moved[1];
        this.o.positions.delete(moved[0]);
      }
    }
    if (saved && saved.offset <= size) offset = saved.offset;
    else if (!saved && this.first && this.o.readFrom === 'tail') offset = size;
    const f = new TailedFile(key, path, fh, fp, offset, this.o);
    if (gone) f.goneSince = Date.now();
    this.files.set(key, f);
    this.o.onEvent('opened');
    this.o.logger.info({ path, offset, resumed: saved !== undefined }, 'following log file');
  }

  /**
   * A file rotated while the adapter was down no longer matches the glob (app.log -> app.log.1):
   * look for its inode beside the saved path and read what was not yet sent.
   */
  private async findRotatedWhileStopped(seen: Set<string>): Promise<void> {
    for (const [key, pos] of [...this.o.positions.all()]) {
      if (seen.has(key)) continue;
      const dir = dirname(pos.path);
      const names = await readdir(dir).catch(() => [] as string[]);
      let found = false;
      for (const name of names) {
        const path = join(dir, name);
        const st = await stat(path).catch(() => undefined);
        if (st && `${st.dev}:${st.ino}` === key && st.size > pos.offset) {
          this.o.logger.info({ path, was: pos.path }, 'finishing a file rotated while stopped');
          await this.track(path, key, st.size, true);
          found = true;
          break;
        }
      }
      if (!found) this.o.positions.delete(key);
    }
  }

  private async readAvailable(f: TailedFile): Promise<void> {
    const st = await f.fh.stat();
    if (st.size < f.offset || (st.size !== f.size && !(await this.samePrefix(f, st.size)))) {
      this.o.onEvent('truncated');
      this.o.logger.info(
        { path: f.path, size: st.size, offset: f.offset },
        'file truncated (copytruncate): reading from its start',
      );
      f.splitter.flush(f.pipeline, new Date().toISOString());
      f.pipeline.flush(true);
      this.send(f, f.splitter.consumed);
      f.offset = 0;
      f.acked = 0;
      f.generation++;
      f.splitter.consumed = 0;
      f.pipeline = f.newPipeline();
      f.fp = await fingerprint(f.fh, st.size, this.o.fingerprintSize);
      this.o.positions.set(f.key, { path: f.path, offset: 0, fp: f.fp });
    } else if (f.fp.len < this.o.fingerprintSize && st.size > f.fp.len) {
      f.fp = await fingerprint(f.fh, st.size, this.o.fingerprintSize);
    }
    f.size = st.size;
    while (f.offset < f.size && !this.stopped) {
      const { bytesRead } = await f.fh.read(this.buf, 0, this.buf.length, f.offset);
      if (bytesRead === 0) break;
      this.o.pipeline.stats.bytesRead += bytesRead;
      const observed = new Date().toISOString();
      f.splitter.push(this.buf.subarray(0, bytesRead), f.offset, f.pipeline, observed);
      f.offset += bytesRead;
      f.lastDataAt = Date.now();
      f.pipeline.flush(false);
      this.send(f, Math.min(f.splitter.consumed, f.pipeline.heldFrom()));
      await this.o.output.room();
    }
  }

  /** Did the first bytes stay the same? (copytruncate followed by fast growth changes them) */
  private async samePrefix(f: TailedFile, size: number): Promise<boolean> {
    if (f.fp.len === 0 || size < f.fp.len) return size >= f.offset;
    return (await fingerprint(f.fh, f.fp.len, f.fp.len)).hash === f.fp.hash;
  }

  /** Hands the pipeline's output to the output; the position moves to `commit` once accepted. */
  private send(f: TailedFile, commit: number): void {
    const batch = f.pipeline.take();
    const records = f.pipeline.batchRecords;
    f.pipeline.batchRecords = 0;
    const generation = f.generation;
    const ack = () => {
      if (generation === f.generation && commit > f.acked) {
        f.acked = commit;
        if (this.files.get(f.key) === f)
          this.o.positions.set(f.key, { path: f.path, offset: f.acked, fp: f.fp });
      }
    };
    if (batch === '') ack();
    else this.o.output.write(batch, records, ack);
  }

  private async retire(f: TailedFile): Promise<void> {
    f.splitter.flush(f.pipeline, new Date().toISOString());
    f.pipeline.flush(true);
    this.send(f, f.splitter.consumed);
    this.files.delete(f.key);
    this.o.positions.delete(f.key);
    await f.fh.close().catch(() => {});
    this.o.onEvent('closed');
    this.o.logger.info({ path: f.path }, 'stopped following a rotated file');
  }
}
