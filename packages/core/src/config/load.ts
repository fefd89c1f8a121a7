import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { closest, didYouMean } from './did-you-mean.js';
import { coerceFlag, type FlagSpec, flagEnv, flagPath, parseArgv } from './flags.js';
import { deepFreeze, getPath, isPlainObject, setPath } from './object-path.js';
import type { ZodMiniType } from './zod.js';
import { knownKeysAt } from './zod-shape.js';

export interface LoadOptions<C> {
  flags: readonly FlagSpec[];
  schema: ZodMiniType<C>;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** flag naming the config file (its env var is read too); default `config` */
  fileFlag?: string;
  /**
   * the config document itself instead of a file (dds-pod hands each component its section);
   * `source` is how errors name where a value came from
   */
  document?: { value: unknown; source: string };
  /**
   * turns a parsed file into config shape, for foreign formats such as nutcracker.yaml; where a
   * key moved, the shaped document says how it was written (WRITTEN_AS) so errors name that
   */
  fromFile?: (doc: unknown, file: string) => unknown;
}

/**
 * Key of a shaped document's map from config paths to the paths as the file wrote them
 * (`hotkeys.top` -> `dds.hotkeysTop`): an error about a value from the file names the field the
 * user wrote, not the one it was moved to.
 */
export const WRITTEN_AS: unique symbol = Symbol('dds.config.writtenAs');

/** A `DDS_*` variable that is no setting: most likely a misspelling. */
export interface UnknownEnv {
  name: string;
  /** the closest setting's variable, if one is close */
  suggestion?: string;
}

/**
 * `DDS_*` variables that are not settings of any component, so never reported as unknown: the
 * `--workers` link, core's fast-path switch and the variables of the project's own scripts and
 * tests.
 */
const TOOLING_ENV = new Set([
  'DDS_WORKER_OF',
  'DDS_NODE_VERSION',
  'DDS_NODE_DIR',
  'DDS_SYSTEM_NODE',
  'DDS_SKIP_BASE',
  'DDS_IMAGE_JOBS',
  'DDS_PEERS_DIR',
  'DDS_FAST_PATHS_OFF', // checked by the runner (internals/fast-paths.ts)
]);
const TOOLING_ENV_PREFIX = 'DDS_TEST_';

export interface LoadedConfig<C> {
  config: Readonly<C>;
  /** the config file in use, if any (watched for hot reload) */
  file: string | undefined;
  /** values of action flags such as --help, --check-config */
  actions: ReadonlyMap<string, unknown>;
  positionals: readonly string[];
  /** `DDS_*` variables no flag reads (the runner warns about them) */
  unknownEnv: readonly UnknownEnv[];
}

/**
 * Merges defaults < YAML file < env DDS_* < CLI flags, validates once against the component's
 * schema, and returns a frozen config. Throws ConfigError (exit 2) naming every bad field and
 * where its value came from. Re-run on reload with the same argv and env. Async only because the
 * YAML parser is loaded when a config file is first read (flags-only processes never load it).
 */
export async function loadConfig<C>(opts: LoadOptions<C>): Promise<LoadedConfig<C>> {
  const { values, positionals } = parseArgv(opts.argv, opts.flags);
  const fileFlag = opts.flags.find((f) => f.name === (opts.fileFlag ?? 'config'));
  const sources = new Map<string, string>();
  const raw: Record<string, unknown> = {};
  const actions = new Map<string, unknown>();

  for (const f of opts.flags) {
    if (f.action || f === fileFlag || f.default === undefined) continue;
    setPath(raw, flagPath(f), f.default);
  }

  const envName = fileFlag ? flagEnv(fileFlag) : undefined;
  const file =
    (fileFlag && (values.get(fileFlag.name) as string | undefined)) ||
    (envName ? opts.env[envName] : undefined) ||
    undefined;
  const document =
    opts.document ?? (file ? { value: await readConfigFile(file), source: `file ${file}` } : undefined);
  let writtenAs: ReadonlyMap<string, string> | undefined;
  if (document) {
    const shaped = opts.fromFile ? opts.fromFile(document.value, file ?? document.source) : document.value;
    if (isPlainObject(shaped))
      writtenAs = (shaped as { [WRITTEN_AS]?: ReadonlyMap<string, string> })[WRITTEN_AS];
    if (shaped !== null && shaped !== undefined) {
      if (!isPlainObject(shaped)) {
        throw new ConfigError(
          [{ path: '', message: 'the config file must hold a mapping', source: document.source }],
          'DDS_CONFIG_FILE',
        );
      }
      mergeInto(raw, shaped, '', sources, document.source);
    }
  }

  for (const f of opts.flags) {
    if (f.action || f === fileFlag) continue;
    const name = flagEnv(f);
    const v = name ? opts.env[name] : undefined;
    if (v === undefined || v === '') continue;
    setPath(raw, flagPath(f), coerceFlag(f, v, `env ${name}`));
    sources.set(flagPath(f), `env ${name}`);
  }

  for (const [name, v] of values) {
    const f = opts.flags.find((x) => x.name === name)!;
    if (f.action) actions.set(name, v);
    if (f.action || f === fileFlag) continue;
    setPath(raw, flagPath(f), v);
    sources.set(flagPath(f), `flag --${f.name}`);
  }

  const parsed = opts.schema.safeParse(raw);
  if (!parsed.success) {
    // a value from the file is named as the file wrote it
    const shown = (path: string, source: string) =>
      writtenAs && source === document?.source ? asWritten(writtenAs, path) : path;
    const issues: ConfigIssue[] = parsed.error.issues.flatMap((i): ConfigIssue[] => {
      const at = i.path.map(String);
      if (i.code === 'unrecognized_keys') {
        // one issue per key, each with its own source and the closest key the schema knows
        const known = knownKeysAt(opts.schema as ZodMiniType<unknown>, i.path as (string | number)[]);
        return i.keys.map((key) => {
          const path = [...at, key].join('.');
          const source = sourceOf(sources, path);
          return { path: shown(path, source), message: `unknown key${didYouMean(key, known)}`, source };
        });
      }
      const path = at.join('.');
      const source = sourceOf(sources, path);
      return [{ path: shown(path, source), message: i.message, received: getPath(raw, path), source }];
    });
    throw new ConfigError(issues);
  }
  return { config: deepFreeze(parsed.data), file, actions, positionals, unknownEnv: unknownEnv(opts) };
}

/** `DDS_*` variables of the environment that no flag of this component reads. */
function unknownEnv(opts: LoadOptions<unknown>): UnknownEnv[] {
  const settings = new Set(opts.flags.map(flagEnv).filter((n): n is string => n !== undefined));
  return Object.keys(opts.env)
    .filter((name) => name.startsWith('DDS_') && !settings.has(name))
    .filter((name) => !TOOLING_ENV.has(name) && !name.startsWith(TOOLING_ENV_PREFIX))
    .sort()
    .map((name) => {
      const suggestion = closest(
        name.slice(4),
        [...settings].map((s) => s.slice(4)),
      );
      return suggestion === undefined ? { name } : { name, suggestion: `DDS_${suggestion}` };
    });
}

export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(
      [{ path: '', message: `cannot read config file: ${e.code ?? e.message}`, source: `file ${file}` }],
      'DDS_CONFIG_FILE',
    );
  }
  const { parseDocument } = (await import('yaml')).default;
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: '',
        message: `YAML: ${e.message.split('\n')[0]}`,
        source: `file ${file}`,
      })),
      'DDS_CONFIG_FILE',
    );
  }
  return doc.toJS();
}

function mergeInto(
  target: Record<string, unknown>,
  src: Record<string, unknown>,
  prefix: string,
  sources: Map<string, string>,
  source: string,
): void {
  for (const [k, v] of Object.entries(src)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && isPlainObject(target[k])) {
      mergeInto(target[k] as Record<string, unknown>, v, path, sources, source);
    } else {
      target[k] = v;
    }
    sources.set(path, source);
  }
}

/** `path` with its longest prefix that the file wrote elsewhere replaced by how it was written. */
function asWritten(writtenAs: ReadonlyMap<string, string>, path: string): string {
  for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const w = writtenAs.get(p);
    if (w !== undefined) return w + path.slice(p.length);
  }
  return path;
}

function sourceOf(sources: Map<string, string>, path: string): string {
  for (let p = path; ; ) {
    const s = sources.get(p);
    if (s) return s;
    const dot = p.lastIndexOf('.');
    if (dot < 0) return p === '' ? 'default' : (sources.get('') ?? 'default');
    p = p.slice(0, dot);
  }
}
