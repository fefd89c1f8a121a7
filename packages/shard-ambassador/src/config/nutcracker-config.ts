import { isPlainObject } from '@dds/core/config/object-path';

/** Top-level key of a nutcracker.yaml that holds our own settings instead of a pool. */
export const SETTINGS_KEY = 'dds';

/**
 * Turns a nutcracker.yaml (a mapping of pool name -> pool) into our config shape
 * `{ pools, ...settings }`. Pool contents stay as twemproxy spells them, so validation
 * errors read `pools.<pool>.<key>`. An optional `dds:` mapping carries our settings.
 */
export function fromNutcrackerYaml(doc: unknown): unknown {
  if (doc === null || doc === undefined) return doc;
  if (!isPlainObject(doc)) return doc;
  const { [SETTINGS_KEY]: settings, ...pools } = doc as Record<string, unknown>;
  return { ...(isPlainObject(settings) ? settings : {}), pools };
}
