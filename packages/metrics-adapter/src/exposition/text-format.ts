import type { Family, Labels, MetricSet } from './metric-set.js';

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type Format = 'text' | 'openmetrics';

/**
 * Chooses the exposition format from an Accept header the way Prometheus negotiates it:
 * OpenMetrics only when the client lists it with a higher (or equal, earlier) q than text/plain.
 */
export function negotiate(accept: string | undefined): Format {
  if (!accept?.includes('openmetrics')) return 'text';
  let best: Format = 'text';
  let bestQ = -1;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    const f: Format | undefined =
      type === 'application/openmetrics-text'
        ? 'openmetrics'
        : type === 'text/plain' || type === '*/*'
          ? 'text'
          : undefined;
    if (f && q > bestQ) {
      best = f;
      bestQ = q;
    }
  }
  return best;
}

export const contentType = (f: Format): string => (f === 'openmetrics' ? OPENMETRICS_TEXT : PROMETHEUS_TEXT);

const escapeLabel = (v: string): string =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;

const escapeHelp = (v: string, om: boolean): string => {
  const s = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return om ? s.replace(/"/g, '\\"') : s;
};

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function labelText(labels: Labels, extra?: string): string {
  let s = '';
  for (const n in labels) s += `${s ? ',' : ''}${n}="${escapeLabel(labels[n]!)}"`;
  if (extra) s += `${s ? ',' : ''}${extra}`;
  return s ? `{${s}}` : '';
}

/**
 * The family's type in OpenMetrics. A counter family there is named without `_total` and its
 * samples with it, so a counter whose name lacks `_total` (compat names such as
 * `memcached_uptime_seconds`) would change its series name; it is declared `unknown` instead,
 * which keeps the exact name the exporter's text format has.
 */
function omType(f: Family, all: ReadonlyMap<string, Family>): string {
  if (f.type === 'untyped') return 'unknown';
  // also when the shortened family name is taken by another family (`x` gauge next to `x_total`)
  if (f.type === 'counter' && (!f.name.endsWith('_total') || all.has(f.name.slice(0, -6)))) return 'unknown';
  return f.type;
}

function renderFamily(f: Family, om: boolean, all: ReadonlyMap<string, Family>, out: string[]): void {
  if (f.samples.length === 0 && f.summaries.length === 0) return;
  const type = om ? omType(f, all) : f.type;
  const family = om && type === 'counter' ? f.name.slice(0, -6) : f.name;
  const sample = f.name;
  out.push(`# HELP ${family} ${escapeHelp(f.help, om)}\n# TYPE ${family} ${type}\n`);
  for (const s of f.samples) out.push(`${sample}${labelText(s.labels)} ${formatValue(s.value)}\n`);
  for (const s of f.summaries) {
    for (const [q, v] of s.quantiles)
      out.push(`${family}${labelText(s.labels, `quantile="${formatValue(q)}"`)} ${formatValue(v)}\n`);
    out.push(`${family}_sum${labelText(s.labels)} ${formatValue(s.sum)}\n`);
    out.push(`${family}_count${labelText(s.labels)} ${formatValue(s.count)}\n`);
  }
}

/** Renders a scrape in the Prometheus text format 0.0.4 or OpenMetrics 1.0. */
export function render(set: MetricSet, format: Format): string {
  const om = format === 'openmetrics';
  const out: string[] = [];
  for (const f of set.families.values()) renderFamily(f, om, set.families, out);
  if (om) out.push('# EOF\n');
  return out.join('');
}
