import { run } from '@dds/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricSet } from './metric-set.js';
import { sanitizeName, strictGenericName, strictNameProblem } from './naming.js';
import { render } from './text-format.js';

async function promtool(set: MetricSet): Promise<string> {
  const r = await run('promtool', ['check', 'metrics'], { input: render(set, 'text') });
  return (r.stdout + r.stderr).trim();
}

describe('strict naming rules', () => {
  it('sanitizes names like the exporters', () => {
    expect(sanitizeName('cmdstat_command|docs')).toBe('cmdstat_command_docs');
    expect(sanitizeName('9lives')).toBe('_9lives');
  });

  it('strictGenericName scales time units and avoids reserved words and suffixes', () => {
    expect(strictGenericName('mysql_global_variables_expire_logs_days')).toEqual([
      'mysql_global_variables_expire_logs_seconds',
      86400,
    ]);
    expect(strictGenericName('x_flush_milliseconds')).toEqual(['x_flush_seconds', 0.001]);
    expect(strictGenericName('x_max_error_count')).toEqual(['x_max_error_count_value', 1]);
    expect(strictGenericName('x_histogram_size')).toEqual(['x_hist_size', 1]);
  });

  it('explains names promtool would flag', () => {
    expect(strictNameProblem('requests', 'counter')).toMatch(/_total/);
    expect(strictNameProblem('queue_total', 'gauge')).toMatch(/only counters/);
    expect(strictNameProblem('latency_ms', 'gauge')).toMatch(/abbreviate/);
    expect(strictNameProblem('age_days', 'gauge')).toMatch(/base unit/);
    expect(strictNameProblem('requestCount', 'untyped')).toMatch(/snake_case/);
    expect(strictNameProblem('my_gauge_value', 'gauge')).toMatch(/type word/);
    expect(strictNameProblem('requests_total', 'counter')).toBeUndefined();
  });

  it('every name it accepts, and every generic name it produces, passes promtool (property)', async () => {
    const word = fc.constantFrom(
      'queue',
      'size',
      'days',
      'bytes',
      'seconds',
      'total',
      'count',
      'ms',
      'counter',
      'histogram',
      'hits',
      'Hits',
      'ratio',
      'sum',
      'bucket',
      'info',
      'minutes',
    );
    const names = fc.sample(
      fc.tuple(
        fc.array(word, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('counter', 'gauge', 'untyped'),
      ),
      { numRuns: 400, seed: 7 },
    );
    const accepted = new MetricSet();
    const generic = new MetricSet();
    let n = 0;
    for (const [parts, type] of names) {
      const name = `app_${parts.join('_')}`;
      if (!strictNameProblem(name, type as 'counter')) accepted.add(name, type as 'counter', 'h', 1);
      const [g] = strictGenericName(sanitizeName(name.toLowerCase()));
      generic.add(g, 'untyped', 'h', 1);
      n++;
    }
    expect(n).toBe(400);
    expect(accepted.families.size).toBeGreaterThan(20);
    expect(await promtool(accepted)).toBe('');
    expect(await promtool(generic)).toBe('');
  });
});
