/**
 * compat: exactly the names, types and labels of the community exporters (redis_exporter,
 * mysqld_exporter, memcached_exporter), so their dashboards and alerts work unchanged.
 * strict: every name passes `promtool check metrics` (base units, counters end in _total,
 * no reserved suffixes on other types).
 */
export type Naming = 'compat' | 'strict';

/** Replaces every character a metric name may not contain with '_' (as the exporters do). */
export function sanitizeName(s: string): string {
  const t = s.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(t) ? `_${t}` : t;
}

const TO_SECONDS: Readonly<Record<string, number>> = {
  days: 86400,
  hours: 3600,
  minutes: 60,
  milliseconds: 1e-3,
  microseconds: 1e-6,
  nanoseconds: 1e-9,
};
/** abbreviated units promtool flags, for generic names: [base unit, factor] */
const ABBREVIATIONS: Readonly<Record<string, readonly [string, number]>> = {
  sec: ['seconds', 1],
  secs: ['seconds', 1],
  ms: ['seconds', 1e-3],
  us: ['seconds', 1e-6],
  usec: ['seconds', 1e-6],
  ns: ['seconds', 1e-9],
  min: ['seconds', 60],
  mins: ['seconds', 60],
  hr: ['seconds', 3600],
  hrs: ['seconds', 3600],
  kb: ['bytes', 1024],
  mb: ['bytes', 1024 * 1024],
  gb: ['bytes', 1024 * 1024 * 1024],
};
/** promtool rejects type names as name parts; strict mode shortens them */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  counter: 'ctr',
  gauge: 'gge',
  histogram: 'hist',
  summary: 'smry',
};

/**
 * Strict-mode name for a metric passed through generically (MySQL status and variables, Redis
 * cluster fields), where no hand-written name exists: non-base time units become seconds (the
 * value is scaled; abbreviations like ms, usec, kb likewise), type words are shortened, and a reserved suffix (_count, _sum, _bucket)
 * gets `_value` appended. Returns the name and the factor to apply to the value.
 */
export function strictGenericName(name: string): [name: string, scale: number] {
  let scale = 1;
  const parts = name.split('_').map((p) => {
    const f = TO_SECONDS[p];
    if (f !== undefined) {
      scale *= f;
      return 'seconds';
    }
    const a = ABBREVIATIONS[p];
    if (a) {
      scale *= a[1];
      return a[0];
    }
    return TYPE_WORDS[p] ?? p;
  });
  let out = parts.join('_');
  if (/_(count|sum|bucket|total)$/.test(out)) out += '_value';
  return [out, scale];
}

const TYPE_SUFFIX_WORDS = new Set(['counter', 'gauge', 'histogram', 'summary']);
const NON_BASE_UNITS = new Set([
  ...Object.keys(TO_SECONDS),
  'percent',
  'kilobytes',
  'megabytes',
  'gigabytes',
]);
const ABBREVIATED_UNITS = new Set([
  'sec',
  'secs',
  'ms',
  'us',
  'usec',
  'ns',
  'min',
  'mins',
  'hr',
  'hrs',
  'kb',
  'mb',
  'gb',
  'pct',
]);

/**
 * Why a user-chosen name (JSON mappings) would fail `promtool check metrics` lint, or undefined.
 * strict mode refuses such mappings at load instead of serving names it promised to keep clean.
 */
export function strictNameProblem(name: string, type: 'counter' | 'gauge' | 'untyped'): string | undefined {
  if (/[A-Z]/.test(name)) return 'metric names should be snake_case, not camelCase';
  if (type === 'counter' && !name.endsWith('_total')) return 'a counter must end in _total';
  if (type !== 'counter' && /_(total|count|sum|bucket)$/.test(name))
    return `only counters (and histograms, summaries) may end in ${name.slice(name.lastIndexOf('_'))}`;
  for (const part of name.split('_')) {
    if (TYPE_SUFFIX_WORDS.has(part)) return `the name should not contain the type word "${part}"`;
    if (NON_BASE_UNITS.has(part)) return `use a base unit (seconds, bytes, ratio) instead of "${part}"`;
    if (ABBREVIATED_UNITS.has(part)) return `do not abbreviate units ("${part}")`;
  }
  return undefined;
}
