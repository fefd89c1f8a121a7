import { camel, flagPath } from '@dds/core/config/flags';
import { WRITTEN_AS } from '@dds/core/config/load';
import { getPath, isPlainObject, setPath } from '@dds/core/config/object-path';
import { ConfigError } from '@dds/core/errors';
import { flags } from './flags.js';

/** Top-level key of a nutcracker.yaml that holds our own settings instead of a pool. */
export const SETTINGS_KEY = 'dds';

/**
 * Flags whose config path differs from their name (`--hotkeys-top` is `hotkeys.top`): under
 * `dds:` they may also be written as the flag (`hotkeysTop`, or `hotkeys-top`), so every flag
 * is a key there, as the README says.
 */
const ALIASES = new Map<string, string>(
  flags
    .filter((f) => !f.action && flagPath(f) !== camel(f.name))
    .flatMap((f) => [
      [camel(f.name), flagPath(f)],
      [f.name, flagPath(f)],
    ]),
);
for (const f of flags) if (!f.action && f.name !== camel(f.name)) ALIASES.set(f.name, flagPath(f));

/**
 * Turns a nutcracker.yaml (a mapping of pool name -> pool) into our config shape
 * `{ pools, ...settings }`. Pool contents stay as twemproxy spells them, so validation
 * errors read `pools.<pool>.<key>`. An optional `dds:` mapping carries our settings.
 */
export function fromNutcrackerYaml(doc: unknown, file = 'the config file'): unknown {
  if (doc === null || doc === undefined) return doc;
  if (!isPlainObject(doc)) return doc;
  const { [SETTINGS_KEY]: settings, ...pools } = doc as Record<string, unknown>;
  const writtenAs = new Map<string, string>();
  return { ...settingsOf(settings, file, writtenAs), pools, [WRITTEN_AS]: writtenAs };
}

function settingsOf(
  settings: unknown,
  file: string,
  writtenAs: Map<string, string>,
): Record<string, unknown> {
  if (!isPlainObject(settings)) return {};
  const out: Record<string, unknown> = {};
  const aliased: [string, string, unknown][] = [];
  for (const [k, v] of Object.entries(settings)) {
    const path = ALIASES.get(k);
    // errors about a setting name it as written: dds.logLevel, dds.hotkeysTop
    writtenAs.set(path ?? k, `${SETTINGS_KEY}.${k}`);
    if (path === undefined) out[k] = v;
    else aliased.push([k, path, v]);
  }
  for (const [k, path, v] of aliased) {
    if (getPath(out, path) !== undefined) {
      throw new ConfigError(
        [
          {
            path: `${SETTINGS_KEY}.${k}`,
            message: `${path} is also given; keep one of them`,
            received: v,
            source: `file ${file}`,
          },
        ],
        'DDS_CONFIG_FILE',
      );
    }
    setPath(out, path, v);
  }
  return out;
}
