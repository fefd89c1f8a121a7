import { DdsError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';
import { formatDuration, parseDuration } from './duration.js';

export type FlagType = 'string' | 'number' | 'boolean' | 'duration' | 'list';

/** A command-line flag. Each flag also reads an environment variable and a config path. */
export interface FlagSpec {
  /** long name without dashes, e.g. `drain-timeout` */
  name: string;
  type: FlagType;
  help: string;
  /** single-letter alias, e.g. `c` for `-c` */
  short?: string;
  /** dotted config path; defaults to the camelCased name */
  path?: string;
  /** default value, in the config's units (milliseconds for durations) */
  default?: unknown;
  /** environment variable; defaults to DDS_<NAME>; false for none */
  env?: string | false;
  /** accepted but refused with this message (e.g. nutcracker's -d) */
  refuse?: string;
  /** the flag acts on the CLI only (e.g. --help) and is not part of the config */
  action?: boolean;
  /** value is a secret: redacted in --print-config and /config */
  secret?: boolean;
  /** shown in help as the value's name, e.g. HOST:PORT */
  metavar?: string;
  /** group heading in --help */
  group?: string;
  /** what separates several values of a list flag in one argument or env var (default `,`) */
  separator?: string;
  /** how the README shows the default when the value is long (a cipher list); --help shows the value */
  defaultDoc?: string;
}

export const camel = (s: string): string => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const flagPath = (f: FlagSpec): string => f.path ?? camel(f.name);
export const flagEnv = (f: FlagSpec): string | undefined =>
  f.env === false ? undefined : (f.env ?? `DDS_${f.name.toUpperCase().replace(/-/g, '_')}`);

/** Converts a textual flag or env value into the flag's type; throws a DdsError naming the flag. */
export function coerceFlag(f: FlagSpec, raw: string, origin: string): unknown {
  switch (f.type) {
    case 'string':
      return raw;
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) {
        throw new DdsError('DDS_FLAG_VALUE', `${origin}: expected a number, got "${raw}"`);
      }
      return n;
    }
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on', ''].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new DdsError('DDS_FLAG_VALUE', `${origin}: expected true or false, got "${raw}"`);
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) {
        throw new DdsError(
          'DDS_FLAG_VALUE',
          `${origin}: expected a duration like 500ms, 10s or 2m, got "${raw}"`,
        );
      }
      return ms;
    }
    case 'list':
      return raw
        .split(f.separator ?? ',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
  }
}

export interface ParsedArgv {
  /** flag name -> coerced value; list flags accumulate over repeats */
  values: Map<string, unknown>;
  positionals: string[];
}

/** Parses `--name value`, `--name=value`, `--no-name`, `-c value`, `-cvalue`. */
export function parseArgv(argv: readonly string[], flags: readonly FlagSpec[]): ParsedArgv {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const values = new Map<string, unknown>();
  const positionals: string[] = [];
  const set = (f: FlagSpec, raw: string, origin: string) => {
    if (f.refuse) throw new DdsError('DDS_FLAG_VALUE', `${origin}: ${f.refuse}`);
    const v = coerceFlag(f, raw, origin);
    const prev = values.get(f.name);
    values.set(f.name, f.type === 'list' && Array.isArray(prev) ? [...prev, ...(v as string[])] : v);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const f = byName.get(name);
      if (!f && name.startsWith('no-')) {
        const neg = byName.get(name.slice(3));
        if (neg?.type === 'boolean' && eq < 0) {
          set(neg, 'false', arg);
          continue;
        }
      }
      if (!f)
        throw new DdsError(
          'DDS_FLAG_UNKNOWN',
          `unknown flag ${arg.slice(0, eq < 0 ? undefined : eq)}${didYouMean(name, byName.keys(), (n) => `--${n}`)} (see --help)`,
        );
      if (eq >= 0) set(f, arg.slice(eq + 1), `--${name}`);
      else if (f.type === 'boolean') {
        const next = argv[i + 1];
        if (next !== undefined && /^(true|false)$/i.test(next)) {
          set(f, next, `--${name}`);
          i++;
        } else set(f, 'true', `--${name}`);
      } else {
        const next = argv[++i];
        if (next === undefined) throw new DdsError('DDS_FLAG_VALUE', `--${name}: needs a value`);
        set(f, next, `--${name}`);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length >= 2 && arg !== '-') {
      const f = byShort.get(arg[1]!);
      if (!f) throw new DdsError('DDS_FLAG_UNKNOWN', `unknown flag ${arg.slice(0, 2)} (see --help)`);
      if (f.type === 'boolean') {
        set(f, 'true', `-${f.short}`);
        if (arg.length > 2) throw new DdsError('DDS_FLAG_VALUE', `-${f.short}: takes no value`);
      } else if (arg.length > 2) set(f, arg.slice(2), `-${f.short}`);
      else {
        const next = argv[++i];
        if (next === undefined && !f.refuse)
          throw new DdsError('DDS_FLAG_VALUE', `-${f.short}: needs a value`);
        set(f, next ?? '', `-${f.short}`);
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values, positionals };
}

function showDefault(f: FlagSpec): string {
  if (f.default === undefined || f.default === '' || f.action) return '';
  if (Array.isArray(f.default)) return f.default.length ? ` (default ${f.default.join(',')})` : '';
  if (f.type === 'duration' && typeof f.default === 'number')
    return ` (default ${formatDuration(f.default)})`;
  return ` (default ${String(f.default)})`;
}

/** Renders --help: every flag with its value name, default and environment variable. */
export function renderHelp(opts: {
  bin: string;
  summary: string;
  usage: string;
  flags: readonly FlagSpec[];
  footer?: string;
}): string {
  const lines = [`${opts.bin} - ${opts.summary}`, '', `Usage: ${opts.usage}`, ''];
  const groups = new Map<string, FlagSpec[]>();
  for (const f of opts.flags) {
    const g = f.group ?? 'Options';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(f);
  }
  for (const [group, flags] of groups) {
    lines.push(`${group}:`);
    for (const f of flags) {
      const meta = f.type === 'boolean' ? '' : ` ${f.metavar ?? f.type.toUpperCase()}`;
      const names = `${f.short ? `-${f.short}, ` : '    '}--${f.name}${meta}`;
      const env = f.action ? undefined : flagEnv(f);
      const tail = `${showDefault(f)}${env ? ` [env ${env}]` : ''}`;
      lines.push(`  ${names.padEnd(34)} ${f.help}${tail}`);
    }
    lines.push('');
  }
  if (opts.footer) lines.push(opts.footer, '');
  return lines.join('\n');
}
