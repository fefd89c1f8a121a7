import { stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';

const MAGIC = /[*?[\]{}]/;

/**
 * Absolute paths of the files matching the patterns (symlinks followed: /var/log/containers
 * holds symlinks). Each pattern is split into its literal base directory and a relative glob,
 * so only the base is walked.
 */
export async function expandGlobs(patterns: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const parts = pattern.split('/');
    const i = parts.findIndex((p) => MAGIC.test(p));
    if (i < 0) {
      const st = await stat(pattern).catch(() => undefined);
      if (st?.isFile()) out.add(pattern);
      continue;
    }
    const base = parts.slice(0, i).join('/') || '/';
    const rel = parts.slice(i).join('/');
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
