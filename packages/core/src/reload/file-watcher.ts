import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface WatchHandle {
  close(): void;
}

function digest(file: string): string | undefined {
  try {
    return createHash('sha1').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Calls onChange when the content behind `file` changes. Kubernetes updates mounted ConfigMaps
 * and Secrets by swapping a `..data` symlink in the parent directory, which an inotify watch on
 * the file itself never sees; so this watches the directory for events and also polls the
 * content digest every `intervalMs`, comparing content so that touches without change are not
 * reported. Several files (a cert and its key) can share one handle; onChange fires once per
 * batch of changes.
 */
export function watchFiles(
  files: readonly string[],
  onChange: (changed: string[]) => void,
  intervalMs = 1000,
): WatchHandle {
  const paths = files.map((f) => resolve(f));
  const last = new Map(paths.map((p) => [p, digest(p)]));
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    timer = undefined;
    const changed: string[] = [];
    for (const p of paths) {
      const d = digest(p);
      if (d !== last.get(p)) {
        last.set(p, d);
        if (d !== undefined) changed.push(p);
      }
    }
    if (changed.length) onChange(changed);
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
  return {
    close() {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
