import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSchema } from './check-spec.js';
import { textLine, versionOf } from './memcached.js';
import { CheckFailure } from './probe.js';
import { infoFields } from './redis.js';

describe('memcached reply parsing', () => {
  it('reads one CRLF line, waits for more, gives up after 1 KiB without a line end', () => {
    expect(textLine(Buffer.from('VERSION 1.6.21\r\nEND\r\n'))).toEqual({ value: 'VERSION 1.6.21', used: 16 });
    expect(textLine(Buffer.from('VERSION 1.6'))).toBeUndefined();
    expect(() => textLine(Buffer.alloc(1025, 0x41))).toThrow('no line end in 1 KiB');
    expect(versionOf('VERSION 1.6.21')).toBe('memcached 1.6.21');
    expect(() => versionOf('SERVER_ERROR out of memory')).toThrow(
      expect.objectContaining({ reason: 'unhealthy' }),
    );
    expect(() => versionOf('+PONG')).toThrow(expect.objectContaining({ reason: 'protocol' }));
  });

  it('on any bytes: a line, undefined or a CheckFailure; versionOf never throws anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        let r: ReturnType<typeof textLine>;
        try {
          r = textLine(Buffer.from(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(CheckFailure);
          return;
        }
        if (!r) return;
        expect(r.used).toBeLessThanOrEqual(bytes.length);
        expect(r.value).not.toContain('\r\n');
        try {
          expect(versionOf(r.value)).toMatch(/^memcached \S+$/);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckFailure);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Redis INFO fields', () => {
  it('reads key:value lines, skips sections and comments, keeps colons in values', () => {
    const f = infoFields(
      '# Replication\r\nrole:slave\r\nmaster_host:::1\r\nmaster_link_status:down\r\n\r\n# CPU\r\n',
    );
    expect(f.get('role')).toBe('slave');
    expect(f.get('master_host')).toBe('::1');
    expect(f.get('master_link_status')).toBe('down');
    expect(f.has('# Replication')).toBe(false);
  });

  it('never throws on any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (s) => {
        expect(infoFields(s)).toBeInstanceOf(Map);
      }),
    );
  });
});

describe('check settings', () => {
  const http = (expectStatus: unknown) =>
    checkSchema.safeParse({ name: 'h', type: 'http', url: 'http://127.0.0.1:1/', expectStatus });

  it('status ranges', () => {
    const ok = http('200-299, 301,404');
    expect(ok.success && ok.data.type === 'http' && ok.data.expectStatus).toEqual([
      [200, 299],
      [301, 301],
      [404, 404],
    ]);
    for (const bad of ['', '200-', '299-200', '600', '2xx', '200-299;301', '99'])
      expect(http(bad).success, bad).toBe(false);
  });

  it('any string is either a list of valid ranges or refused, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9, -]{0,20}$/)), (s) => {
        const r = http(s);
        if (!r.success || r.data.type !== 'http') return;
        for (const [lo, hi] of r.data.expectStatus) {
          expect(lo).toBeGreaterThanOrEqual(100);
          expect(hi).toBeLessThanOrEqual(599);
          expect(lo).toBeLessThanOrEqual(hi);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses passwords in URLs and invalid regular expressions', () => {
    const r = checkSchema.safeParse({ name: 'db', type: 'mysql', url: 'mysql://u:p@127.0.0.1/db' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/no password in the URL/);
    const re = checkSchema.safeParse({ name: 'h', type: 'http', url: 'http://x:1/', bodyRegex: '(' });
    expect(re.error?.issues[0]?.message).toMatch(/^invalid regular expression/);
  });
});
