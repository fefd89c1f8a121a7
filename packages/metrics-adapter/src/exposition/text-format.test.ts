import { describe, expect, it } from 'vitest';
import { MetricSet } from './metric-set.js';
import { contentType, negotiate, OPENMETRICS_TEXT, PROMETHEUS_TEXT, render } from './text-format.js';

describe('negotiate', () => {
  it('uses the text format unless OpenMetrics is preferred', () => {
    expect(negotiate(undefined)).toBe('text');
    expect(negotiate('*/*')).toBe('text');
    expect(negotiate('text/plain;version=0.0.4')).toBe('text');
    // what Prometheus 2.x/3.x sends
    expect(
      negotiate(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
    expect(negotiate('text/plain;q=1,application/openmetrics-text;q=0.5')).toBe('text');
    expect(contentType('text')).toBe(PROMETHEUS_TEXT);
    expect(contentType('openmetrics')).toBe(OPENMETRICS_TEXT);
    expect(PROMETHEUS_TEXT).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(OPENMETRICS_TEXT).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
  });
});

describe('render', () => {
  const build = () => {
    const s = new MetricSet();
    s.counter('x_requests_total', 'Requests.', 3, { code: '200' });
    s.counter('x_uptime_seconds', 'Uptime, a counter without _total.', 7);
    s.gauge('x_info', 'Help with \\ and\nnewline and "quotes".', 1, { v: 'a"b\\c\nd' });
    s.add('x_generic', 'untyped', 'Untyped.', Number.NaN);
    s.summary('x_latency_seconds', 'Latency.', {
      labels: { cmd: 'get' },
      quantiles: [
        [0.5, 0.001],
        [0.99, 0.002],
      ],
      sum: 1.5,
      count: 10,
    });
    return s;
  };

  it('writes the Prometheus text format 0.0.4 exactly', () => {
    expect(render(build(), 'text')).toBe(
      [
        '# HELP x_requests_total Requests.',
        '# TYPE x_requests_total counter',
        'x_requests_total{code="200"} 3',
        '# HELP x_uptime_seconds Uptime, a counter without _total.',
        '# TYPE x_uptime_seconds counter',
        'x_uptime_seconds 7',
        '# HELP x_info Help with \\\\ and\\nnewline and "quotes".',
        '# TYPE x_info gauge',
        'x_info{v="a\\"b\\\\c\\nd"} 1',
        '# HELP x_generic Untyped.',
        '# TYPE x_generic untyped',
        'x_generic NaN',
        '# HELP x_latency_seconds Latency.',
        '# TYPE x_latency_seconds summary',
        'x_latency_seconds{cmd="get",quantile="0.5"} 0.001',
        'x_latency_seconds{cmd="get",quantile="0.99"} 0.002',
        'x_latency_seconds_sum{cmd="get"} 1.5',
        'x_latency_seconds_count{cmd="get"} 10',
        '',
      ].join('\n'),
    );
  });

  it('writes OpenMetrics 1.0: counter families without _total, unknown type, # EOF, same series names', () => {
    const out = render(build(), 'openmetrics');
    expect(out).toContain('# TYPE x_requests counter\nx_requests_total{code="200"} 3\n');
    // a counter without _total keeps its series name: declared unknown rather than renamed
    expect(out).toContain('# TYPE x_uptime_seconds unknown\nx_uptime_seconds 7\n');
    expect(out).toContain('# HELP x_info Help with \\\\ and\\nnewline and \\"quotes\\".\n');
    expect(out).toContain('# TYPE x_generic unknown\n');
    const clash = new MetricSet();
    clash.gauge('jobs', 'Jobs now.', 2);
    clash.counter('jobs_total', 'Jobs ever.', 9);
    expect(render(clash, 'openmetrics')).toBe(
      '# HELP jobs Jobs now.\n# TYPE jobs gauge\njobs 2\n# HELP jobs_total Jobs ever.\n# TYPE jobs_total unknown\njobs_total 9\n# EOF\n',
    );
    expect(out.endsWith('x_latency_seconds_count{cmd="get"} 10\n# EOF\n')).toBe(true);
  });

  it('drops duplicates, invalid names and type clashes instead of writing an invalid exposition', () => {
    const s = new MetricSet();
    s.gauge('a', 'A', 1, { db: 'db0' });
    s.gauge('a', 'A', 2, { db: 'db0' });
    s.counter('a', 'A', 3);
    s.gauge('0bad', 'bad', 1);
    s.gauge('b', 'B', 1, { 'bad-label': 'x' });
    s.gauge('c', 'C', 1, { __reserved: 'x' });
    expect(s.rejected).toBe(5);
    expect(render(s, 'text')).toBe('# HELP a A\n# TYPE a gauge\na{db="db0"} 1\n');
    expect(s.value('a', { db: 'db0' })).toBe(1);
  });

  it('formats special values as Prometheus expects', () => {
    const s = new MetricSet();
    s.gauge('v', 'V', Number.POSITIVE_INFINITY, { k: '1' });
    s.gauge('v', 'V', Number.NEGATIVE_INFINITY, { k: '2' });
    s.gauge('v', 'V', 1e21, { k: '3' });
    expect(render(s, 'text')).toContain('v{k="1"} +Inf\nv{k="2"} -Inf\nv{k="3"} 1e+21\n');
  });
});
