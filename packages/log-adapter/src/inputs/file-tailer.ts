import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
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
  /** real directories tailed files must resolve into (symlinks followed); empty = anywhere */
  allowedRoots: string[];
  /** pipeline options (format or custom parser, multiline rule) for a file's path */
  pipelineFor(path: string): PipelineOptions;
  positions: PositionStore;
  output: Output;
  logger: Logger;
  onEvent(kind: 'opened' | 'rotated' | 'truncated' | 'closed'): void;
  onSkipped(reason: 'outside_allowed_roots'): void;
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
  /** rotated away, read to its end and flushed: waiting for the outputs before it is closed */
  finished = false;
  /** batches handed to the output, oldest first: the position moves only past a prefix of acked ones */
  readonly inflight: Array<{ commit: number; acked: boolean }> = [];

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
    this.pipeline = this.newPipeline(opts.pipelineFor(path));
    this.splitter = new LineSplitter(this.pipeline.opts.maxLineLength, offset);
  }

  newPipeline(options: PipelineOptions): SourcePipeline {
    return new SourcePipeline(
      options,
      `,"log.file.path":${JSON.stringify(this.path)}`,
      k8sFromPath(this.path),
    );
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

  /**
   * New parsers (a reload): each file's held records are written out with the parser that read
   * them, and the lines read from now on go through the new one; offsets stay where they are.
   */
  async reconfigure(pipelineFor: (path: string) => PipelineOptions): Promise<void> {
    await this.idle();
    this.o.pipelineFor = pipelineFor;
    for (const f of this.files.values()) {
      f.pipeline.flush(true);
      this.send(f, f.splitter.consumed);
      f.pipeline = f.newPipeline(pipelineFor(f.path));
    }
  }

  /** Paths added to the exclusions (a reload added a file output). */
  exclude(path: string): void {
    if (!this.o.exclude.includes(path)) this.o.exclude.push(path);
  }

  private ticking: Promise<void> = Promise.resolve();

  /** Resolves between two ticks (no file is being read). */
  private async idle(): Promise<void> {
    await this.ticking;
  }

  private tick(): Promise<void> {
    this.ticking = this.tickOnce();
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    await this.scan();
    const now = Date.now();
    for (const f of [...this.files.values()]) {
      await this.readAvailable(f);
      if (f.offset >= f.size) {
        f.caughtUpAt = now;
        if (f.pipeline.holding() && now - f.lastDataAt >= f.pipeline.opts.multilineTimeout) {
          f.pipeline.flush(true);
          this.send(f, f.splitter.consumed);
        }
      }
      if (f.goneSince && f.offset >= f.size && now - f.goneSince >= this.o.rotateWait) {
        if (!f.finished) {
          // its last, unterminated line and held records go out now: nothing more will come
          f.splitter.flush(f.pipeline, new Date().toISOString());
          f.pipeline.flush(true);
          this.send(f, f.splitter.consumed);
          f.finished = true;
          if (f.inflight.length)
            this.o.logger.info(
              { path: f.path, batches: f.inflight.length },
              'rotated file read to its end; kept open until the outputs have it',
            );
        }
        // its position is forgotten only once the outputs have everything: until then a restart
        // must still find the rotated file and resend the rest
        if (f.inflight.length === 0) await this.retire(f);
      }
    }
    this.first = false;
  }

  /** patterns that matched nothing at the last scan (warned once until they match) */
  private readonly empty = new Set<string>();
  private readonly refused = new Set<string>();

  private async scan(): Promise<void> {
    const seen = new Set<string>();
    const paths = new Set<string>();
    for (const pattern of this.o.patterns) {
      const found = await expandGlobs([pattern]);
      if (found.length === 0 && !this.empty.has(pattern)) {
        this.empty.add(pattern);
        this.o.logger.warn(
          { input: pattern },
          '--input matches no file (yet); it is checked every --poll-interval',
        );
      } else if (found.length > 0) this.empty.delete(pattern);
      for (const p of found) paths.add(p);
    }
    for (const path of [...paths].sort()) {
      if (this.o.exclude.includes(path)) continue;
      if (this.o.allowedRoots.length && !(await this.allowed(path))) continue;
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
        known.finished = false;
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

  /** Is the file's real path (symlinks resolved) under an allowed root? Refusals are logged once. */
  private async allowed(path: string): Promise<boolean> {
    const real = await realpath(path).catch(() => undefined);
    if (real && this.o.allowedRoots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep)))
      return true;
    if (real && !this.refused.has(path)) {
      this.refused.add(path);
      this.o.onSkipped('outside_allowed_roots');
      this.o.logger.warn(
        { path, real, allowedRoots: this.o.allowedRoots },
        'not following a file outside --allowed-root',
      );
    }
    return false;
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
    // saved from the start, not only at the first acknowledgement: a file renamed out of the glob
    // before the outputs took anything is still found after a crash
    this.o.positions.set(key, { path, offset, fp });
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
      f.inflight.length = 0;
      f.splitter.consumed = 0;
      f.pipeline = f.newPipeline(f.pipeline.opts);
      f.fp = await fingerprint(f.fh, st.size, this.o.fingerprintSize);
      this.o.positions.set(f.key, { path: f.path, offset: 0, fp: f.fp });
    } else if (f.fp.len < this.o.fingerprintSize && st.size > f.fp.len) {
      f.fp = await fingerprint(f.fh, st.size, this.o.fingerprintSize);
    }
    f.size = st.size;
    while (f.offset < f.size && !this.stopped) {
      const { bytesRead } = await f.fh.read(this.buf, 0, this.buf.length, f.offset);
      if (bytesRead === 0) break;
      f.pipeline.opts.stats.bytesRead += bytesRead;
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
    const entry = { commit, acked: false };
    f.inflight.push(entry);
    // outputs may acknowledge out of order (several outputs, halved batches): the position moves
    // only past batches that every earlier batch of the file was acknowledged before
    const ack = () => {
      entry.acked = true;
      if (generation !== f.generation) return;
      let to = f.acked;
      while (f.inflight.length && f.inflight[0]!.acked) to = Math.max(to, f.inflight.shift()!.commit);
      if (to > f.acked) {
        f.acked = to;
        if (this.files.get(f.key) === f)
          this.o.positions.set(f.key, { path: f.path, offset: f.acked, fp: f.fp });
      }
    };
    if (batch === '') ack();
    else this.o.output.write(batch, records, ack);
  }

  private async retire(f: TailedFile): Promise<void> {
    this.files.delete(f.key);
    this.o.positions.delete(f.key);
    await f.fh.close().catch(() => {});
    this.o.onEvent('closed');
    this.o.logger.info({ path: f.path }, 'stopped following a rotated file');
  }
}
