import { stat } from 'node:fs/promises';

const MAGIC = /[*?[\]{}]/;

/** The literal directory a pattern starts from (`/logs/*.log` -> `/logs`). */
export function baseDir(pattern: string): string {
  const parts = pattern.split('/');
  const i = parts.findIndex((p) => MAGIC.test(p));
  return parts.slice(0, i < 0 ? -1 : i).join('/') || '/';
}

/**
 * Absolute paths of the files matching the patterns (symlinks followed: /var/log/containers
 * holds symlinks). Each pattern is split into its literal base directory and a relative glob,
 * so only the base is walked.
 */
export async function expandGlobs(patterns: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    if (!MAGIC.test(pattern)) {
      const st = await stat(pattern).catch(() => undefined);
      if (st?.isFile()) out.add(pattern);
      continue;
    }
    const base = baseDir(pattern);
    const rel = pattern.slice(base === '/' ? 1 : base.length + 1);
    // tinyglobby (with fdir and picomatch) loads with the first pattern that has wildcards
    const { glob } = await import('tinyglobby');
    const found = await glob(rel, {
      cwd: base,
      absolute: true,
      onlyFiles: true,
      followSymbolicLinks: true,
      dot: true,
    }).catch(() => [] as string[]);
    for (const f of found) out.add(f);
  }
  return [...out].sort();
}
