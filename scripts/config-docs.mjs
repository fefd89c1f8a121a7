// What the settings declare, written where people read it (each setting is declared once, in its
// component's config.ts; flags, --help, env vars and YAML keys come from that declaration at run
// time, and these files from it here):
//   - the flag tables of each component's README, between <!-- flags:begin --> and <!-- flags:end -->
//   - the Helm charts' values.schema.json: the values every component chart takes
//     (k8s/charts/dds-lib/component-values.schema.json), the chart's own (values.schema.extra.json
//     beside it) and `flags:`, one property per flag with its type, choices and help
//   - each chart's appVersion, from the component's package.json
//   - k8s/charts/dds/files/flag-paths.json: each charted component's flags -> their config path,
//     which the umbrella chart's pod mode uses to turn a component's flags: into its pod section
//
//   node scripts/config-docs.mjs           rewrite what is stale (after `npm run build`)
//   node scripts/config-docs.mjs --check   exit 1 naming what is stale (test/foundation/config-docs.test.ts)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const CHARTS = join(ROOT, 'k8s/charts');

/** The programs whose flags are documented: every package with a bin and a README (dds-pod's flags are the common ones). */
export const DOCUMENTED = readdirSync(join(ROOT, 'packages')).filter(
  (p) =>
    existsSync(join(ROOT, 'packages', p, 'README.md')) &&
    JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')).bin !== undefined,
);
/** Components with a chart of their own (the chart is named as the component). */
export const CHARTED = DOCUMENTED.filter((c) => existsSync(join(CHARTS, c, 'Chart.yaml')));

const BEGIN =
  '<!-- flags:begin: generated from the settings by `node scripts/config-docs.mjs`; edit the settings in src/, not this table -->';
const END = '<!-- flags:end -->';

const dist = (pkg, file) => pathToFileURL(join(ROOT, 'packages', pkg, 'dist', file)).href;

/** Every flag of a program, as its --help lists them, and its config schema (if any). */
export async function flagsOf(name) {
  if (name === 'pod') {
    const { podFlags } = await import(dist('pod', 'pod-config.js'));
    return { flags: podFlags, schema: undefined, fileFlag: 'config' };
  }
  const { allFlags } = await import(dist('core', 'runner.js'));
  const { component } = await import(dist(name, 'component.js'));
  return { flags: allFlags(component), schema: component.schema, fileFlag: component.fileFlag ?? 'config' };
}

const camel = (s) => s.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const pathOf = (f) => f.path ?? camel(f.name);
const envOf = (f) =>
  f.env === false ? undefined : (f.env ?? `DDS_${f.name.toUpperCase().replace(/-/g, '_')}`);

function formatDuration(ms) {
  for (const [unit, n] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ])
    if (ms > 0 && ms % n === 0) return `${ms / n}${unit}`;
  return `${ms}ms`;
}

/** The default as --help shows it; none for '' and []. */
function shownDefault(f) {
  const d = f.default;
  if (d === undefined || d === '' || f.action || (Array.isArray(d) && d.length === 0)) return '';
  if (f.defaultDoc) return f.defaultDoc;
  if (Array.isArray(d)) return `\`${d.join(',')}\``;
  if (f.type === 'duration' && typeof d === 'number') return `\`${formatDuration(d)}\``;
  return `\`${String(d)}\``;
}

const cell = (s) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The README flag tables of one program: one table per --help group, in --help order. */
export function flagTables(flags, fileFlag = 'config') {
  const groups = new Map();
  for (const f of flags) {
    const g = f.group ?? 'Options';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(f);
  }
  const out = [];
  for (const [group, list] of groups) {
    out.push(`**${group}**`, '', '| flag | env | YAML key | default | meaning |', '|---|---|---|---|---|');
    for (const f of list) {
      const meta = f.type === 'boolean' ? '' : ` ${f.metavar ?? f.type.toUpperCase()}`;
      const names = `${f.short ? `-${f.short}, ` : ''}--${f.name}${meta}`;
      const env = f.action ? '' : envOf(f);
      const key = f.action || f.name === fileFlag ? '' : `\`${pathOf(f)}\``;
      out.push(
        `| \`${cell(names)}\` | ${env ? `\`${env}\`` : ''} | ${key} | ${cell(shownDefault(f))} | ${cell(f.help)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/** The README with its flag tables replaced; throws when the markers are missing. */
export function withTables(readme, tables, file) {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file}: no ${BEGIN} ... ${END} markers`);
  return `${readme.slice(0, a + BEGIN.length)}\n${tables}\n${readme.slice(b)}`;
}

/** Zod's definition of the schema at a config path, through wrappers (for a flag's choices). */
function schemaAt(schema, path) {
  let s = schema;
  for (const key of path.split('.')) {
    s = unwrap(s);
    const shape = s?._zod.def.shape;
    s = shape?.[key];
  }
  return unwrap(s);
}
function unwrap(s) {
  for (let i = 0; s && i < 20; i++) {
    const def = s._zod.def;
    if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type))
      s = def.innerType;
    else if (def.type === 'pipe') s = def.in.type === 'transform' ? def.out : def.in;
    else return s;
  }
  return s;
}

/** A flag as a chart value: its type (null or "" leave it at its default), choices and help. */
function flagValueSchema(f, schema) {
  const description = `${f.help}${shownDefault(f) ? ` (default ${shownDefault(f).replace(/`/g, '')})` : ''}`;
  const types = {
    string: ['string', 'null'],
    number: ['number', 'string', 'null'],
    boolean: ['boolean', 'string', 'null'],
    duration: ['string', 'number', 'null'],
    list: ['array', 'string', 'null'],
  };
  const out = { description, type: types[f.type] };
  if (f.type === 'list') out.items = { type: 'string' };
  // a string only where the flag takes one: "" (left out), or a duration's text
  if (f.type === 'number' || f.type === 'boolean') out.pattern = '^$';
  if (f.type === 'duration') out.pattern = '^$|^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)?$';
  const def = schema ? schemaAt(schema, pathOf(f))?._zod.def : undefined;
  if (f.type === 'string' && def?.type === 'enum')
    out.enum = [...new Set([...Object.values(def.entries), '']), null];
  return out;
}

/** A chart's values.schema.json: the common values, the chart's own, and its component's flags. */
export function chartSchema(chart, flags, schema) {
  const base = JSON.parse(readFileSync(join(CHARTS, 'dds-lib/component-values.schema.json'), 'utf8'));
  let extra = {};
  try {
    extra = JSON.parse(readFileSync(join(CHARTS, chart, 'values.schema.extra.json'), 'utf8')).properties;
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  const properties = {};
  for (const [key, value] of Object.entries(base.properties)) {
    if (key === 'networkPolicy') Object.assign(properties, extra);
    properties[key] =
      key === 'flags'
        ? {
            type: 'object',
            description: `flags of dds-${chart} by name, without the leading -- (see its README or --help); null or "" leaves a flag at its default`,
            additionalProperties: false,
            properties: Object.fromEntries(
              flags.filter((f) => !f.action).map((f) => [f.name, flagValueSchema(f, schema)]),
            ),
          }
        : value;
  }
  return `${JSON.stringify({ ...base, title: `dds ${chart} chart values`, properties }, null, 2)}\n`;
}

const versionOf = (pkg) =>
  JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8')).version;

/** Chart.yaml with appVersion set to the component's version. */
export function withAppVersion(chartYaml, version) {
  return chartYaml.replace(/^appVersion: .*$/m, `appVersion: "${version}"`);
}

/**
 * Each flag of a component (action flags and the config file flag aside) -> its path in the
 * component's YAML config (`guard-window` -> `guard.window`) and its type (a flag given as text,
 * `--name=value`, becomes the YAML value of that type).
 */
export function flagPaths(flags, fileFlag = 'config') {
  return Object.fromEntries(
    flags
      .filter((f) => !f.action && f.name !== fileFlag)
      .map((f) => [f.name, { path: pathOf(f), type: f.type }]),
  );
}

/** Every generated file: [path relative to the root, content it must have]. */
export async function generated() {
  const files = [];
  const paths = {};
  for (const name of DOCUMENTED) {
    const { flags, schema, fileFlag } = await flagsOf(name);
    const readme = `packages/${name}/README.md`;
    files.push([
      readme,
      withTables(readFileSync(join(ROOT, readme), 'utf8'), flagTables(flags, fileFlag), readme),
    ]);
    if (!CHARTED.includes(name)) continue;
    paths[name] = flagPaths(flags, fileFlag);
    files.push([`k8s/charts/${name}/values.schema.json`, chartSchema(name, flags, schema)]);
    const chartYaml = `k8s/charts/${name}/Chart.yaml`;
    files.push([chartYaml, withAppVersion(readFileSync(join(ROOT, chartYaml), 'utf8'), versionOf(name))]);
  }
  files.push(['k8s/charts/dds/files/flag-paths.json', `${JSON.stringify(paths, null, 2)}\n`]);
  return files;
}

/** The generated files whose content on disk differs. */
export async function stale() {
  const out = [];
  for (const [file, content] of await generated()) {
    let current;
    try {
      current = readFileSync(join(ROOT, file), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== content) out.push({ file, content });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const files = await stale();
  for (const { file, content } of files) {
    if (check) console.error(`stale: ${file} (run: node scripts/config-docs.mjs)`);
    else {
      writeFileSync(join(ROOT, file), content);
      console.log(`wrote ${file}`);
    }
  }
  if (check && files.length) process.exit(1);
}
