import { camel, type FlagSpec, type FlagType } from './flags.js';
import { zAddress, zDuration } from './schemas.js';
import * as z from './zod.js';

/**
 * A component's settings, each declared once: its key (the YAML key; nested objects give dotted
 * paths), its schema (what is valid, and the config's type) and its flag (help, default, env var,
 * group, metavar, secret). Everything else is derived from the declaration: the flags and --help
 * (flagsOf), the schema's shape (shapeOf), the DDS_* variables and YAML keys (as flags read them),
 * the README flag tables and the Helm charts' values schemas (scripts/config-docs.mjs).
 *
 *   export const settings = {
 *     listen: setting.string({ help: 'HTTP listen address', metavar: 'HOST:PORT', default: '0.0.0.0:8083', schema: zAddress }),
 *     idCookie: { enabled: setting.boolean({ flag: 'id-cookie', help: '...', default: true }) },
 *     experiments: z.optional(z.array(zExperiment)),      // YAML only: a bare schema, no flag
 *   };
 *   export const flags = flagsOf(settings);
 *   export const schema = z.strictObject({ ...commonSchema, ...shapeOf(settings) }).check(...);
 */

const SETTING = Symbol('dds.setting');

/** What a setting says about its flag: FlagSpec without the name and path its key gives. */
export type FlagOptions = Omit<FlagSpec, 'name' | 'path' | 'type' | 'action'> & {
  /** the flag's name when it is not the key path in kebab-case (`idCookie.enabled` is `--id-cookie`) */
  flag?: string;
};

export interface Setting<S extends z.ZodMiniType = z.ZodMiniType> extends FlagOptions {
  readonly [SETTING]: true;
  readonly type: FlagType;
  readonly schema: S;
}

const CLI_ONLY = Symbol('dds.cli-only');

/** A flag that is no config value: an action (`-t`, `-d`) or the flag naming the config file. */
export interface CliFlag extends FlagOptions {
  readonly [CLI_ONLY]: true;
  readonly type: FlagType;
  readonly action?: boolean;
}

/**
 * Settings by key; a nested object is a group of keys (a YAML mapping), a bare schema a YAML-only
 * key, a CliFlag a flag only.
 */
export interface Settings {
  readonly [key: string]: Setting | CliFlag | z.ZodMiniType | Settings;
}

type SchemaOf<T> =
  T extends Setting<infer S>
    ? S
    : T extends z.ZodMiniType
      ? T
      : T extends Settings
        ? z.ZodMiniObject<ShapeOf<T>, z.core.$strict>
        : never;

/** The zod shape of some settings: spread it into the component's `z.strictObject`. */
export type ShapeOf<T extends Settings> = {
  -readonly [K in keyof T as T[K] extends CliFlag ? never : K]: SchemaOf<T[K]>;
};

type Options<S> = FlagOptions & { schema?: S };

function make<S extends z.ZodMiniType>(type: FlagType, fallback: z.ZodMiniType, o: Options<S>): Setting<S> {
  return { ...o, [SETTING]: true, type, schema: (o.schema ?? fallback) as S };
}

/**
 * One setting per flag type; `schema` narrows what is valid (default: any value of the type). The
 * schema takes what the flag, the env var and YAML give: a string, a number, true/false, a list of
 * strings, or for durations `10s` or a number of milliseconds.
 */
export const setting = {
  string: <S extends z.ZodMiniType = z.ZodMiniString<string>>(o: Options<S>): Setting<S> =>
    make('string', z.string(), o),
  number: <S extends z.ZodMiniType = z.ZodMiniNumber<number>>(o: Options<S>): Setting<S> =>
    make('number', z.number(), o),
  boolean: <S extends z.ZodMiniType = z.ZodMiniBoolean<boolean>>(o: Options<S>): Setting<S> =>
    make('boolean', z.boolean(), o),
  /** milliseconds; the flag and env take `500ms`, `10s`, `2m`, YAML a duration or milliseconds */
  duration: <S extends z.ZodMiniType = typeof zDuration>(o: Options<S>): Setting<S> =>
    make('duration', zDuration, o),
  /** a `host:port`, `[v6]:port` or unix path to listen on (metavar HOST:PORT) */
  address: <S extends z.ZodMiniType = typeof zAddress>(o: Options<S>): Setting<S> =>
    make('string', zAddress, { metavar: 'HOST:PORT', ...o }),
  /** comma-separated (or `separator`) in a flag or env var, repeatable, a list in YAML */
  list: <S extends z.ZodMiniType = z.ZodMiniArray<z.ZodMiniString<string>>>(o: Options<S>): Setting<S> =>
    make('list', z.array(z.string()), o),
  /** a flag the command line acts on, no config value: `action` flags, or the config file's flag */
  cli: (o: FlagOptions & { type: FlagType; action?: boolean }): CliFlag => ({ ...o, [CLI_ONLY]: true }),
};

const isSetting = (v: unknown): v is Setting => typeof v === 'object' && v !== null && SETTING in v;
const isCliFlag = (v: unknown): v is CliFlag => typeof v === 'object' && v !== null && CLI_ONLY in v;
const isSchema = (v: unknown): v is z.ZodMiniType => typeof v === 'object' && v !== null && '_zod' in v;

/** `idCookie.maxAge` -> `id-cookie-max-age` */
const kebab = (path: string): string =>
  path.replace(/[.A-Z]/g, (c) => (c === '.' ? '-' : `-${c.toLowerCase()}`));

/** The flags of some settings, in declaration order (a group's flags where the group stands). */
export function flagsOf(settings: Settings, prefix = ''): FlagSpec[] {
  const flags: FlagSpec[] = [];
  for (const [key, value] of Object.entries(settings)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isSetting(value)) {
      const { schema: _schema, flag, [SETTING]: _mark, ...spec } = value;
      const name = flag ?? kebab(path);
      flags.push(camel(name) === path ? { ...spec, name } : { ...spec, name, path });
    } else if (isCliFlag(value)) {
      const { flag, [CLI_ONLY]: _mark, ...spec } = value;
      flags.push({ ...spec, name: flag ?? kebab(path) });
    } else if (!isSchema(value)) flags.push(...flagsOf(value, path));
  }
  return flags;
}

/** The zod shape of some settings (a group becomes a strict object of its own). */
export function shapeOf<T extends Settings>(settings: T): ShapeOf<T> {
  const shape: Record<string, z.ZodMiniType> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (isCliFlag(value)) continue;
    shape[key] = isSetting(value) ? value.schema : isSchema(value) ? value : z.strictObject(shapeOf(value));
  }
  return shape as ShapeOf<T>;
}
