import { createHash } from 'node:crypto';
import { type FSWatcher, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface WatchHandle {
  /** the content digest last reported (or seen at start) per file */
  readonly digests: ReadonlyMap<string, string | undefined>;
  close(): void;
}

/** How long new content must stay unchanged before it is reported. */
const SETTLE_MS = 100;

function digest(file: string): string | undefined {
  try {
    return createHash('sha1').update(readFileSync(file)).digest('hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') return listing(file);
    return undefined;
  }
}

/** A directory's digest: its entries with their size and change time (a file added, removed or rewritten). */
function listing(dir: string): string | undefined {
  try {
    const h = createHash('sha1');
    for (const name of readdirSync(dir).sort()) {
      const st = statSync(join(dir, name), { throwIfNoEntry: false });
      h.update(`${name}\0${st?.size ?? -1}\0${st?.mtimeMs ?? -1}\n`);
    }
    return h.digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Calls onChange when the content behind `file` changes. Kubernetes updates mounted ConfigMaps
 * and Secrets by swapping a `..data` symlink in the parent directory, which an inotify watch on
 * the file itself never sees; so this watches the directory for events and also polls the
 * content digest every `intervalMs`, comparing content so that touches without change are not
 * reported, and waiting until new content holds still for SETTLE_MS, so a file caught halfway
 * through a write (empty or cut short) is not reported unless the writer stalls longer. Several
 * files (a cert and its key) can share one handle; onChange fires once per batch of changes, when
 * every changed file has held still. A directory is watched by its listing: an entry added,
 * removed or rewritten is a change.
 */
export function watchFiles(
  files: readonly string[],
  onChange: (changed: string[]) => void,
  intervalMs = 1000,
  /**
   * digests already known (a previous watcher's): a change that happened since it last looked
   * is still reported, instead of being taken as the starting point
   */
  seen?: ReadonlyMap<string, string | undefined>,
): WatchHandle {
  const paths = files.map((f) => resolve(f));
  const last = new Map(paths.map((p) => [p, seen?.has(p) ? seen.get(p) : digest(p)]));
  let timer: NodeJS.Timeout | undefined;
  // new content, and when it was first seen: reported once it has held still long enough
  const pending = new Map<string, { digest: string | undefined; since: number }>();
  const check = () => {
    timer = undefined;
    const changed: string[] = [];
    let wait = 0;
    const now = performance.now();
    for (const p of paths) {
      const d = digest(p);
      if (d === last.get(p)) {
        pending.delete(p);
        continue;
      }
      // A plain write is a truncate and then the bytes (editors, cp, writeFileSync): reading in
      // between sees an empty or partial file. Content is reported once it holds still.
      const seenAt = pending.get(p);
      if (seenAt === undefined || seenAt.digest !== d) {
        pending.set(p, { digest: d, since: now });
        wait = Math.max(wait, SETTLE_MS);
        continue;
      }
      if (now - seenAt.since < SETTLE_MS) {
        wait = Math.max(wait, SETTLE_MS - (now - seenAt.since));
        continue;
      }
      changed.push(p);
    }
    // One batch: while any file is still settling, the settled ones wait for it. A check that
    // reads the cert before a `..data` swap and the key after it would otherwise report the key
    // now and the cert next time: two reloads of one rotation.
    if (wait > 0) {
      if (!timer) timer = setTimeout(check, Math.ceil(wait));
      return;
    }
    const reported: string[] = [];
    for (const p of changed) {
      const d = pending.get(p)?.digest;
      pending.delete(p);
      last.set(p, d);
      if (d !== undefined) reported.push(p);
    }
    if (reported.length) onChange(reported);
  };
  // Coalesce a burst of events (a symlink swap is several renames) into one check.
  const soon = () => {
    if (!timer) timer = setTimeout(check, 50);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    try {
      const w = watch(dir, { persistent: false }, () => soon());
      w.on('error', () => {});
      watchers.push(w);
    } catch {
      // directory not watchable (e.g. some network filesystems): the poll still covers it
    }
  }
  const poll = setInterval(check, intervalMs);
  poll.unref();
  if (seen !== undefined) soon(); // compare the seeded digests with the files now
  return {
    digests: last,
    close() {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
