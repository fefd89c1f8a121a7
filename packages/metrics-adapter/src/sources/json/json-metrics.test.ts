import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MetricSet } from '../../exposition/metric-set.js';
import { render } from '../../exposition/text-format.js';
import { compileJsonConfig } from './json-config.js';
import { jsonMetrics } from './json-metrics.js';

const config = parse(`
modules:
  default:
    headers:
      X-Token: abc
    metrics:
      - name: example_global_value
        path: '{ .counter }'
        help: Example of a top-level global value scrape in the json
        labels:
          environment: beta
          location: 'planet-{.location}'
      - name: example_value
        type: object
        help: Example of sub-level value scrapes from a json
        path: '{.values[?(@.state == "ACTIVE")]}'
        valuetype: gauge
        labels:
          id: '{.id}'
        values:
          active: 1
          count: '{.count}'
          boolean: '{.some_boolean}'
      - name: queue_size
        path: '{.queues.*.size}'
        valuetype: gauge
        labels:
          queue: '{@key}'
      - name: worker_busy
        path: '{.queues.*.workers.*}'
        valuetype: gauge
        labels:
          queue: '{@key[0]}'
          worker: '{@key}'
      - name: service_state
        path: '{.services.*}'
        valuetype: gauge
        labels:
          service: '{@key}'
        valueconverter:
          up: 1
          down: 0
`);

const doc = {
  counter: 1234,
  location: 'mars',
  values: [
    { id: 'id-A', count: 1, some_boolean: true, state: 'ACTIVE' },
    { id: 'id-B', count: 2, some_boolean: true, state: 'INACTIVE' },
    { id: 'id-C', count: 3, some_boolean: false, state: 'ACTIVE' },
  ],
  queues: { emails: { size: 3, workers: { w1: 1, w2: 0 } }, sms: { size: 5 } },
  services: { api: 'UP', db: 'down', cache: 'degraded' },
};

describe('JSON source mapping (json_exporter-like config + object keys as labels)', () => {
  const mods = compileJsonConfig(config, 'test');

  it('produces value and object metrics with static, path and key labels', () => {
    const set = new MetricSet();
    const skipped = jsonMetrics(set, doc, mods.get('default')!);
    expect(skipped).toBe(1); // services.cache = "degraded" has no conversion
    expect(render(set, 'text')).toBe(
      [
        '# HELP example_global_value Example of a top-level global value scrape in the json',
        '# TYPE example_global_value untyped',
        'example_global_value{environment="beta",location="planet-{.location}"} 1234',
        '# HELP example_value_active Example of sub-level value scrapes from a json',
        '# TYPE example_value_active gauge',
        'example_value_active{id="id-A"} 1',
        'example_value_active{id="id-C"} 1',
        '# HELP example_value_count Example of sub-level value scrapes from a json',
        '# TYPE example_value_count gauge',
        'example_value_count{id="id-A"} 1',
        'example_value_count{id="id-C"} 3',
        '# HELP example_value_boolean Example of sub-level value scrapes from a json',
        '# TYPE example_value_boolean gauge',
        'example_value_boolean{id="id-A"} 1',
        'example_value_boolean{id="id-C"} 0',
        '# HELP queue_size queue_size from {.queues.*.size}',
        '# TYPE queue_size gauge',
        'queue_size{queue="emails"} 3',
        'queue_size{queue="sms"} 5',
        '# HELP worker_busy worker_busy from {.queues.*.workers.*}',
        '# TYPE worker_busy gauge',
        'worker_busy{queue="emails",worker="w1"} 1',
        'worker_busy{queue="emails",worker="w2"} 0',
        '# HELP service_state service_state from {.services.*}',
        '# TYPE service_state gauge',
        'service_state{service="api"} 1',
        'service_state{service="db"} 0',
        '',
      ].join('\n'),
    );
    expect(mods.get('default')!.headers).toEqual({ 'X-Token': 'abc' });
  });

  it('takes the label path only when the whole value is in braces; label paths are relative', () => {
    const m = compileJsonConfig(
      {
        metrics: [
          {
            name: 'x',
            path: '{.values[*]}',
            type: 'object',
            labels: { id: '{.id}' },
            values: { n: '{.count}' },
          },
        ],
      },
      't',
    );
    const set = new MetricSet();
    jsonMetrics(set, doc, m.get('default')!);
    expect(set.value('x_n', { id: 'id-B' })).toBe(2);
  });

  it('strict naming refuses mappings whose names promtool would flag', () => {
    const cfg = (name: string, valuetype: string, extra: object = {}) => ({
      metrics: [{ name, path: '{.a}', valuetype, ...extra }],
    });
    expect(() => compileJsonConfig(cfg('app_requests', 'counter'), 'j.yml', true)).toThrow(
      'j.yml: modules.default.metrics.0: name: app_requests: a counter must end in _total (--naming strict)',
    );
    expect(() => compileJsonConfig(cfg('app_latency_ms', 'gauge'), 'j', true)).toThrow(/abbreviate/);
    expect(() =>
      compileJsonConfig(cfg('app_x', 'gauge', { labels: { queueName: '{@key}' } }), 'j', true),
    ).toThrow(/labels.queueName/);
    expect(() =>
      compileJsonConfig(
        {
          metrics: [
            { name: 'app_job', type: 'object', path: '{.a}', valuetype: 'counter', values: { runs: '{.r}' } },
          ],
        },
        'j',
        true,
      ),
    ).toThrow(/app_job_runs: a counter must end in _total/);
    expect(compileJsonConfig(cfg('app_requests', 'counter'), 'j.yml', false).size).toBe(1);
    expect(compileJsonConfig(cfg('app_requests_total', 'counter'), 'j.yml', true).size).toBe(1);
  });

  it('rejects invalid configs naming the field', () => {
    expect(() =>
      compileJsonConfig(
        { modules: { default: { metrics: [{ name: 'bad-name', path: '{.a}' }] } } },
        'cfg.yml',
      ),
    ).toThrow('cfg.yml: modules.default.metrics.0.name: not a valid Prometheus metric name');
    expect(() =>
      compileJsonConfig({ modules: { m: { metrics: [{ name: 'a', path: '{.a[}' }] } } }, 'cfg.yml'),
    ).toThrow(/cfg.yml: modules.m.metrics.0: expected/);
    expect(() =>
      compileJsonConfig({ modules: { m: { metrics: [{ name: 'a', path: '{.a}', type: 'object' }] } } }, 'c'),
    ).toThrow(/needs values/);
    expect(() =>
      compileJsonConfig({ modules: { m: { metrics: [{ name: 'a', path: '{.a}', color: 'red' }] } } }, 'c'),
    ).toThrow(/color/);
    expect(() => compileJsonConfig({ modules: { m: { metrics: [] } } }, 'c')).toThrow(/metrics/);
  });
});
