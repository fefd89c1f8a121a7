import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, runPipeline } from '@dds/test-support/log-adapter/pipeline';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZoneClock } from '../../time/zone-clock.js';
import { RegexParser } from './regex-parser.js';
import { compileTimeFormat, type TimeReader } from './time-format.js';

const time = (f: string) => compileTimeFormat(f) as TimeReader;
const utc = new ZoneClock('UTC');

describe('time formats', () => {
  it('reads strptime patterns, epochs and RFC 3339, in the zone given when the stamp has none', () => {
    expect(time('%Y-%m-%d %H:%M:%S.%L %z')('2026-11-28 15:49:09.345 +0100', utc)).toBe(
      '2026-11-28T14:49:09.345Z',
    );
    expect(time('%d/%b/%Y:%H:%M:%S %z')('28/Nov/2026:15:49:09 -0230', utc)).toBe('2026-11-28T18:19:09Z');
    expect(time('%Y-%m-%dT%H:%M:%S.%fZ')('2026-11-28T15:49:09.123456789Z', utc)).toBe(
      '2026-11-28T15:49:09.123456789Z',
    );
    expect(time('%F %T')('2026-07-01 12:00:00', new ZoneClock('Europe/Berlin'))).toBe('2026-07-01T10:00:00Z');
    expect(time('%m/%d/%y %I:%M:%S %p')('11/28/26 03:49:09 PM', utc)).toBe('2026-11-28T15:49:09Z');
    expect(time('epoch')('1795880949.25', utc)).toBe('2026-11-28T15:49:09.25Z');
    expect(time('epoch_ms')('1795880949250', utc)).toBe('2026-11-28T15:49:09.250Z');
    expect(time('rfc3339')('2026-11-28T15:49:09+02:00', utc)).toBe('2026-11-28T13:49:09Z');
    expect(time('%s')('1795880949', utc)).toBe('2026-11-28T15:49:09Z');
  });

  it('answers "" for text that does not match, and rejects formats it cannot read', () => {
    expect(time('%Y-%m-%d %H:%M:%S')('yesterday', utc)).toBe('');
    expect(time('%Y-%m-%d %H:%M:%S')('2026-13-01 00:00:00', utc)).toBe('');
    expect(compileTimeFormat('%Q')).toMatch(/unsupported directive %Q/);
    expect(compileTimeFormat('%Y-%m-%d')).toMatch(/needs at least the hour/);
  });

  it('property: any instant written with a strptime pattern reads back as the same instant', () => {
    const read = time('%Y-%m-%d %H:%M:%S.%L %z');
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1971-01-01'), max: new Date('2999-12-31'), noInvalidDate: true }),
        fc.integer({ min: -720, max: 840 }),
        (d, offMin) => {
          const local = new Date(d.getTime() + offMin * 60_000);
          const pad = (n: number, w = 2) => String(n).padStart(w, '0');
          const sign = offMin < 0 ? '-' : '+';
          const a = Math.abs(offMin);
          const text = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${pad(local.getUTCMilliseconds(), 3)} ${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
          expect(Date.parse(read(text, utc))).toBe(d.getTime());
        },
      ),
    );
  });
});

const parser = (regex: string, extra: Partial<ConstructorParameters<typeof RegexParser>[0]> = {}) =>
  new RegexParser({
    regex: new RegExp(regex, 's'),
    timeKey: 'time',
    time: time('%Y-%m-%d %H:%M:%S,%L'),
    severityKey: 'level',
    messageKey: 'message',
    types: {},
    rename: {},
    ...extra,
  });

const APP = '^(?<time>\\S+ \\S+) (?<level>[A-Z]+) \\[(?<thread>[^\\]]+)\\] (?<message>.*)$';

describe('regex parser', () => {
  it('named groups become attributes; time, level and message go where the data model puts them', () => {
    const custom = parser(
      '^(?<client>\\S+) (?<status>\\d+) (?<ms>[\\d.]+) (?<cached>true|false) (?<message>.*)$',
      {
        types: { status: 'int', ms: 'float', cached: 'bool' },
        rename: { client: 'client.address', status: 'http.response.status_code' },
      },
    );
    const { lines } = runPipeline('192.0.2.7 503 12.5 false upstream timed out\n', { options: { custom } });
    const r = JSON.parse(lines[0]!);
    expect(r.body).toBe('upstream timed out');
    expect(r.attributes).toEqual({
      'client.address': '192.0.2.7',
      'http.response.status_code': 503,
      ms: 12.5,
      cached: false,
    });
  });

  it('a line the expression does not match passes through with dds.parse_error, counted under the parser', () => {
    const { lines, stats } = runPipeline('not matching\n', {
      options: { custom: parser(APP), label: 'myapp' },
    });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      body: 'not matching',
      attributes: { 'dds.parse_error': 'not myapp' },
    });
    expect(stats.failed.get('myapp')).toBe(1);
  });

  it('a start-pattern multiline rule joins continuation lines, then the expression reads the whole record', () => {
    const text = readFileSync(join(FIXTURES, 'python-traceback.log'), 'utf8');
    const { lines } = runPipeline(text, {
      options: { custom: parser(APP), multilineStart: /^\d{4}-\d\d-\d\d /, label: 'py' },
    });
    expect(lines.length).toBe(2);
    const first = JSON.parse(lines[0]!);
    expect(first.timestamp).toBe('2026-11-28T15:49:09.345Z');
    expect(first.severity_text).toBe('ERROR');
    expect(first.severity_number).toBe(17);
    expect(first.attributes.thread).toBe('worker');
    expect(first.body).toMatch(/^task failed\nTraceback \(most recent call last\):\n/);
    expect(first.body).toMatch(/ZeroDivisionError: division by zero$/);
    expect(JSON.parse(lines[1]!).body).toBe('next task');
  });

  it('the multiline rule cuts a record at --multiline-max-lines and keeps every line', () => {
    const input = `${Array.from({ length: 7 }, (_, i) => (i === 0 ? 'START 0' : `  cont ${i}`)).join('\n')}\n`;
    const { lines } = runPipeline(input, {
      format: 'raw',
      options: { multilineStart: /^START/, multilineMaxLines: 3 },
    });
    expect(lines.map((l) => JSON.parse(l).body)).toEqual([
      'START 0\n  cont 1\n  cont 2',
      '  cont 3\n  cont 4\n  cont 5',
      '  cont 6',
    ]);
  });

  it('property: whatever the lines, a start-pattern rule loses none and keeps their order', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[ -~]{0,20}$/), { maxLength: 40 }), (ls) => {
        const { lines } = runPipeline(ls.map((l) => `${l}\n`).join(''), {
          format: 'raw',
          options: { multilineStart: /^[A-Z]/ },
        });
        const bodies = lines.map((l) => JSON.parse(l).body as string);
        expect(bodies.join('\n')).toBe(ls.join('\n'));
      }),
    );
  });
});

describe('Python traceback with no log line before it (issue 19)', () => {
  it('is one record, named after its exception', () => {
    const text = readFileSync(join(FIXTURES, 'python-traceback.log'), 'utf8').split('\n').slice(1).join('\n');
    const { lines } = runPipeline(text);
    expect(lines.length).toBe(2);
    const r = JSON.parse(lines[0]!);
    expect(r.attributes['exception.type']).toBe('ZeroDivisionError');
    expect(r.attributes['exception.message']).toBe('division by zero');
    expect(r.attributes['exception.stacktrace']).toMatch(
      /^Traceback \(most recent call last\):\n {2}File "\/app\/worker.py"/,
    );
    expect(r.attributes['exception.stacktrace']).toMatch(/ZeroDivisionError: division by zero$/);
    expect(r.attributes['dds.parse_error']).toBeUndefined();
  });
});
