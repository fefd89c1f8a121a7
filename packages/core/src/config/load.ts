import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { coerceFlag, type FlagSpec, flagEnv, flagPath, parseArgv } from './flags.js';
import { deepFreeze, getPath, isPlainObject, setPath } from './object-path.js';
import type { ZodMiniType } from './zod.js';

export interface LoadOptions<C> {
  flags: readonly FlagSpec[];
  schema: ZodMiniType<C>;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** flag naming the config file (its env var is read too); default `config` */
  fileFlag?: string;
  /** turns a parsed file into config shape, for foreign formats such as nutcracker.yaml */
  fromFile?: (doc: unknown, file: string) => unknown;
}

export interface LoadedConfig<C> {
  config: Readonly<C>;
  /** the config file in use, if any (watched for hot reload) */
  file: string | undefined;
  /** values of action flags such as --help, --check-config */
  actions: ReadonlyMap<string, unknown>;
  positionals: readonly string[];
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
  if (file) {
    const doc = await readConfigFile(file);
    const shaped = opts.fromFile ? opts.fromFile(doc, file) : doc;
    if (shaped !== null && shaped !== undefined) {
      if (!isPlainObject(shaped)) {
        throw new ConfigError(
          [{ path: '', message: 'the config file must hold a mapping', source: `file ${file}` }],
          'DDS_CONFIG_FILE',
        );
      }
      mergeInto(raw, shaped, '', sources, `file ${file}`);
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
    const issues: ConfigIssue[] = parsed.error.issues.map((i) => {
      const path = i.path.map(String).join('.');
      return { path, message: i.message, received: getPath(raw, path), source: sourceOf(sources, path) };
    });
    throw new ConfigError(issues);
  }
  return { config: deepFreeze(parsed.data), file, actions, positionals };
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
  const { parseDocument } = await import('yaml');
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

function sourceOf(sources: Map<string, string>, path: string): string {
  for (let p = path; ; ) {
    const s = sources.get(p);
    if (s) return s;
    const dot = p.lastIndexOf('.');
    if (dot < 0) return p === '' ? 'default' : (sources.get('') ?? 'default');
    p = p.slice(0, dot);
  }
}
