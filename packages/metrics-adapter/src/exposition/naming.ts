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
 * value is scaled), type words are shortened, and a reserved suffix (_count, _sum, _bucket)
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
    return TYPE_WORDS[p] ?? p;
  });
  let out = parts.join('_');
  if (/_(count|sum|bucket|total)$/.test(out)) out += '_value';
  return [out, scale];
}
