import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The version of the package a module belongs to, from the nearest package.json above it: the one
 * version of a component, set in packages/<c>/package.json (and bumped there only). In an image the
 * bundle's /app/package.json carries it (scripts/bundle.mjs writes it there from the component's
 * own). Read once, when a component's definition loads.
 */
export function packageVersion(moduleUrl: string): string {
  for (let dir = dirname(fileURLToPath(moduleUrl)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // no package.json here: look further up
    }
    if (text !== undefined) {
      const version = (JSON.parse(text) as { version?: unknown }).version;
      if (typeof version !== 'string' || version === '') throw new Error(`no version in ${file}`);
      return version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json above ${moduleUrl}`);
  }
}
