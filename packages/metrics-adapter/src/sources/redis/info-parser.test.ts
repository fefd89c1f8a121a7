import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInfo, parseSubFields } from './info-parser.js';

const fixture = readFileSync(new URL('../../__fixtures__/redis-info.txt', import.meta.url), 'utf8');

describe('parseInfo', () => {
  it('reads every field of a real Redis 7 INFO ALL with its section', () => {
    const { fields, malformedCount } = parseInfo(fixture);
    expect(malformedCount).toBe(0);
    expect(fields).toHaveLength(
      fixture.split('\n').filter((l) => l.includes(':') && !l.startsWith('#')).length,
    );
    expect(fields[0]).toEqual({ section: 'Server', key: 'redis_version', value: '7.0.15' });
    expect(fields.find((f) => f.key === 'os')).toEqual({
      section: 'Server',
      key: 'os',
      value: 'Linux 6.18.44-fc-v782 x86_64',
    });
    expect(fields.find((f) => f.key === 'cmdstat_command|docs')).toEqual({
      section: 'Commandstats',
      key: 'cmdstat_command|docs',
      value: 'calls=2,usec=1952,usec_per_call=976.00,rejected_calls=0,failed_calls=0',
    });
    expect(fields.filter((f) => f.section === 'Keyspace')).toEqual([
      { section: 'Keyspace', key: 'db0', value: 'keys=54,expires=2,avg_ttl=5399950' },
      { section: 'Keyspace', key: 'db1', value: 'keys=1,expires=0,avg_ttl=0' },
    ]);
    expect(new Set(fields.map((f) => f.section))).toEqual(
      new Set([
        'Server',
        'Clients',
        'Memory',
        'Persistence',
        'Stats',
        'Replication',
        'CPU',
        'Commandstats',
        'Errorstats',
        'Latencystats',
        'Cluster',
        'Keyspace',
      ]),
    );
  });

  it('accepts CRLF as sent on the wire and values containing colons', () => {
    const { fields } = parseInfo(
      '# Server\r\nexecutable:/usr/bin/redis-server\r\nconfig_file:C:\\redis.conf\r\n\r\n',
    );
    expect(fields).toEqual([
      { section: 'Server', key: 'executable', value: '/usr/bin/redis-server' },
      { section: 'Server', key: 'config_file', value: 'C:\\redis.conf' },
    ]);
  });

  it('counts and skips malformed lines', () => {
    const r = parseInfo('# Stats\nno colon here\n:novalue-key\nkeyspace_hits:5\n\u0000\u0001garbage');
    expect(r.fields).toEqual([{ section: 'Stats', key: 'keyspace_hits', value: '5' }]);
    expect(r.malformedCount).toBe(3);
    expect(r.malformed).toEqual(['no colon here', ':novalue-key', '\u0000\u0001garbage']);
  });

  it('splits sub-field lists and refuses broken ones', () => {
    expect(parseSubFields('keys=1,expires=0')).toEqual(
      new Map([
        ['keys', '1'],
        ['expires', '0'],
      ]),
    );
    expect(parseSubFields('keys=1,broken')).toBeUndefined();
    expect(parseSubFields('=1')).toBeUndefined();
  });

  it('never throws and keeps every key:value line (property)', () => {
    const line = fc.oneof(
      fc
        .tuple(
          fc.stringMatching(/^[a-z_]{1,12}$/),
          fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s)),
        )
        .map(([k, v]) => `${k}:${v}`),
      fc.string({ maxLength: 30 }).filter((s) => !s.includes('\n')),
      fc.stringMatching(/^# [A-Za-z]{1,10}$/),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), fc.boolean(), (lines, crlf) => {
        const text = lines.join(crlf ? '\r\n' : '\n');
        const r = parseInfo(text);
        const good = lines.filter((l) => /^[a-z_]{1,12}:/.test(l) && !l.startsWith('#')).length;
        expect(r.fields.length).toBeGreaterThanOrEqual(good);
        for (const f of r.fields) expect(f.key.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (s) => {
        const r = parseInfo(s);
        expect(r.malformed.length).toBeLessThanOrEqual(5);
      }),
      { numRuns: 1000 },
    );
  });
});
