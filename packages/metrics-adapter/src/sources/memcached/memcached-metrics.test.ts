import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricSet } from '../../exposition/metric-set.js';
import { render } from '../../exposition/text-format.js';
import { parseMemcachedTarget } from './memcached-client.js';
import { memcachedMetrics } from './memcached-metrics.js';
import { StatsProtocolError, StatsReader } from './stats-reader.js';

const read = (f: string) => readFileSync(new URL(`../../__fixtures__/${f}`, import.meta.url), 'utf8');
/** the fixtures are captured with CRLF stripped; put them back as memcached sends them */
const wire = (f: string) => `${read(f).trimEnd().replace(/\n/g, '\r\n')}\r\n`;

describe('StatsReader', () => {
  it('reads pipelined stats blocks from the real replies', () => {
    const r = new StatsReader(2);
    const out = r.push(Buffer.from(wire('memcached-stats.txt') + wire('memcached-stats-settings.txt')));
    expect(out).toHaveLength(2);
    const [stats, settings] = out as Array<Map<string, string>>;
    expect(stats!.get('version')).toBe('1.6.18');
    expect(stats!.get('get_hits')).toBe('20');
    expect(stats!.size).toBe(
      read('memcached-stats.txt')
        .split('\n')
        .filter((l) => l.startsWith('STAT ')).length,
    );
    expect(settings!.get('maxconns')).toBe('1024');
    expect(r.malformed).toBe(0);
  });

  it('records ERROR replies per block and counts junk lines', () => {
    const r = new StatsReader(3);
    const out = r.push(
      Buffer.from('STAT a 1\r\njunk\r\nSTAT b\r\nEND\r\nERROR\r\nSERVER_ERROR out of memory\r\n'),
    );
    expect(out![0]).toEqual(new Map([['a', '1']]));
    expect((out![1] as Error).message).toBe('ERROR');
    expect((out![2] as Error).message).toBe('SERVER_ERROR out of memory');
    expect(() => new StatsReader(1).push(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(
      'not a memcached stats reply: "HTTP/1.1 400 Bad Request"',
    );
    expect(r.malformed).toBe(2);
  });

  it('refuses endless lines and trailing bytes', () => {
    const many = Array.from({ length: 50_001 }, (_, i) => `STAT k${i} 1\r\n`).join('');
    expect(() => new StatsReader(1).push(Buffer.from(many))).toThrow(/more than 50000 stats/);
    expect(() => new StatsReader(1).push(Buffer.alloc(5000, 'x'))).toThrow(StatsProtocolError);
    expect(() => new StatsReader(1).push(Buffer.from('END\r\nEND\r\n'))).toThrow(/after the last reply/);
  });

  it('gives the same blocks however the bytes are split, and never throws anything else (property)', () => {
    const bytes = Buffer.from(wire('memcached-stats.txt') + wire('memcached-stats-settings.txt'));
    const whole = new StatsReader(2).push(bytes);
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 30 }), (cuts) => {
        const r = new StatsReader(2);
        let out: unknown;
        let last = 0;
        for (const c of [...cuts.sort((a, b) => a - b), bytes.length]) {
          if (c <= last) continue;
          out = r.push(bytes.subarray(last, c));
          last = c;
        }
        expect(out).toEqual(whole);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        try {
          new StatsReader(2).push(Buffer.from(b));
        } catch (err) {
          expect(err).toBeInstanceOf(StatsProtocolError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('memcachedMetrics on real stats (memcached_exporter names)', () => {
  const blocks = new StatsReader(2).push(
    Buffer.from(wire('memcached-stats.txt') + wire('memcached-stats-settings.txt')),
  )!;
  const snap = {
    stats: blocks[0] as Map<string, string>,
    settings: blocks[1] as Map<string, string>,
    items: new Map([
      ['items:1:number', '20'],
      ['items:1:age', '14'],
      ['items:1:evicted', '0'],
      ['items:1:hits_to_hot', '3'],
      ['items:1:number_hot', '5'],
    ]),
    malformed: 0,
  };
  const set = new MetricSet();
  const bad = memcachedMetrics(set, snap, 'compat');
  const text = render(set, 'text');

  it('exports commands_total{command,status} and the core gauges and counters', () => {
    expect(bad).toEqual([]);
    expect(text.split('\n').filter((l) => l.startsWith('memcached_commands_total'))).toEqual([
      'memcached_commands_total{command="get",status="hit"} 20',
      'memcached_commands_total{command="get",status="miss"} 10',
      'memcached_commands_total{command="delete",status="hit"} 1',
      'memcached_commands_total{command="delete",status="miss"} 1',
      'memcached_commands_total{command="incr",status="hit"} 0',
      'memcached_commands_total{command="incr",status="miss"} 1',
      'memcached_commands_total{command="decr",status="hit"} 0',
      'memcached_commands_total{command="decr",status="miss"} 0',
      'memcached_commands_total{command="cas",status="hit"} 0',
      'memcached_commands_total{command="cas",status="miss"} 0',
      'memcached_commands_total{command="touch",status="hit"} 1',
      'memcached_commands_total{command="touch",status="miss"} 0',
      'memcached_commands_total{command="cas",status="badval"} 0',
      'memcached_commands_total{command="flush",status="hit"} 0',
      'memcached_commands_total{command="set",status="hit"} 20',
    ]);
    for (const l of [
      '# TYPE memcached_current_bytes gauge',
      '# TYPE memcached_uptime_seconds counter',
      'memcached_uptime_seconds 15',
      'memcached_current_connections 1',
      'memcached_max_connections 1024',
      'memcached_limit_bytes 67108864',
      'memcached_version{version="1.6.18"} 1',
      'memcached_process_user_cpu_seconds_total 0.023478',
      'memcached_slab_current_items{slab="1"} 20',
      'memcached_slab_lru_hits_total{slab="1",lru="hot"} 3',
      'memcached_slab_hot_items{slab="1"} 5',
      'memcached_lru_crawler_enabled 1',
    ])
      expect(text.split('\n')).toContain(l);
    expect(text).toMatch(/\nmemcached_current_items \d+\n/);
  });

  it('strict mode renames the counter without _total', () => {
    const strict = new MetricSet();
    memcachedMetrics(strict, snap, 'strict');
    expect(strict.value('memcached_uptime_seconds_total')).toBe(15);
    expect(strict.has('memcached_uptime_seconds')).toBe(false);
  });

  it('skips a non-numeric stat and reports it', () => {
    const s = new MetricSet();
    const bad2 = memcachedMetrics(
      s,
      {
        stats: new Map([
          ['version', '1.6'],
          ['curr_connections', 'many'],
          ['bytes', '10'],
        ]),
        malformed: 0,
      },
      'compat',
    );
    expect(bad2).toEqual(['curr_connections=many']);
    expect(s.value('memcached_current_bytes')).toBe(10);
    expect(s.has('memcached_current_connections')).toBe(false);
  });
});

describe('parseMemcachedTarget', () => {
  it('accepts host:port, a bare host and IPv6', () => {
    expect(parseMemcachedTarget('127.0.0.1:11211')).toEqual({ host: '127.0.0.1', port: 11211 });
    expect(parseMemcachedTarget('cache')).toEqual({ host: 'cache', port: 11211 });
    expect(parseMemcachedTarget('[::1]:1')).toEqual({ host: '::1', port: 1 });
    expect(parseMemcachedTarget('a:b:c')).toMatch(/invalid/);
    expect(parseMemcachedTarget('h:70000')).toMatch(/out of range/);
  });
});
