import { runPipeline } from '@dds/test-support/log-adapter/pipeline';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FORMAT_CHOICES, type FormatChoice } from './formats.js';

const FORMATS = Object.keys(FORMAT_CHOICES) as FormatChoice[];

// Lines that look like the formats, then get mangled: the parsers' edge cases live near them.
const SEEDS = [
  '203.0.113.7 - - [28/Nov/2026:15:49:08 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.5.0"',
  '2026/11/28 15:49:11 [error] 29#29: *12 open() failed, client: 192.0.2.44, server: x, request: "GET / HTTP/1.1"',
  '[Sat Nov 28 15:49:10.123456 2026] [core:error] [pid 1234:tid 1] [client 192.0.2.13:51234] AH00126: x',
  '1:M 28 Nov 2026 15:49:08.733 * monotonic clock',
  '<34>Nov 28 15:49:08 web-1 su: failed',
  '<14>1 2026-11-28T15:49:11.5Z web-1 myapp 4242 ORDER [origin ip="192.0.2.1"][meta note="a \\] b"] order',
  '2026-11-28T15:49:32.123456Z 0 [System] [MY-010931] [Server] ready',
  '{"level":30,"time":1795880948123,"msg":"x","err":{"message":"m","stack":"s"}}',
  '2026-11-28 15:49:08.120  INFO 1 --- [main] c.e.App : started',
  '2026-11-28T15:49:09.000000000Z stdout P chunk',
  '{"log":"x\\n","stream":"stdout","time":"2026-11-28T15:49:08.123456789Z"}',
];

const mangled = fc
  .tuple(fc.constantFrom(...SEEDS), fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 12 }))
  .map(([s, cut, at, junk]) => {
    const a = at % (s.length + 1);
    return s.slice(0, a) + junk + s.slice(a + (cut % 6));
  });
const anyLine = fc.oneof(mangled, fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom(...SEEDS));

describe('parsers (property)', () => {
  it('never throw and never lose a line: one valid JSON record per non-continuation line', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FORMATS),
        fc.array(anyLine, { minLength: 1, maxLength: 8 }),
        (format, lines) => {
          const clean = lines.map((l) => l.replace(/[\r\n]/g, ' '));
          const { lines: out, stats } = runPipeline(`${clean.join('\n')}\n`, { format, multiline: false });
          expect(stats.linesRead).toBe(clean.length);
          for (const l of out) {
            const rec = JSON.parse(l) as { body: unknown; attributes: Record<string, unknown> };
            expect(typeof rec.body).toBe('string');
            expect(typeof rec.attributes).toBe('object');
          }
          // container formats may hold P chunks until the final one; everything else is 1:1
          const partials = clean.filter((l) => / stdout P /.test(l) || /^\{"log":/.test(l)).length;
          expect(out.length).toBeGreaterThanOrEqual(clean.length - partials);
          expect(out.length).toBeLessThanOrEqual(clean.length);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('every input byte sequence comes out: unparsed lines keep their text as the body', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (s) => {
        const line = s.replace(/[\r\n]/g, ' ');
        fc.pre(!/^[\s]/.test(line));
        const { lines } = runPipeline(`${line}\n`, { format: 'raw' });
        expect(lines).toHaveLength(1);
        expect(JSON.parse(lines[0]!).body).toBe(line);
      }),
      { numRuns: 300 },
    );
  });

  it('binary garbage of any size is split, bounded and never stalls', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
        const { lines, stats } = runPipeline(Buffer.from(bytes), { maxLineLength: 300 });
        const nl = bytes.filter((b) => b === 10).length;
        const trailing = bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? 1 : 0;
        expect(stats.linesRead).toBe(nl + trailing);
        for (const l of lines)
          expect((JSON.parse(l) as { body: string }).body.length).toBeLessThanOrEqual(300);
      }),
      { numRuns: 200 },
    );
  });

  it('JSON fields survive whatever their names (including __proto__ and the mapped names with odd types)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.string(), fc.constantFrom('__proto__', 'msg', 'level', 'time', 'err', 'req')),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 8 },
        ),
        (obj) => {
          const line = JSON.stringify(obj);
          const { lines } = runPipeline(`${line}\n`, { format: 'json', multiline: false });
          expect(lines).toHaveLength(1);
          const rec = JSON.parse(lines[0]!) as { body: string; attributes: Record<string, unknown> };
          for (const [k, v] of Object.entries(obj)) {
            if (
              [
                'msg',
                'message',
                'level',
                'time',
                'timestamp',
                'ts',
                'err',
                'error',
                'req',
                'res',
                'pid',
                'hostname',
                'caller',
                'v',
                'severity',
                'lvl',
                'stack_trace',
              ].includes(k) ||
              k.includes('trace') ||
              k.includes('span') ||
              k.includes('level')
            )
              continue;
            if (v === undefined) continue;
            expect(rec.attributes[k]).toEqual(JSON.parse(JSON.stringify(v)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('epoch times of any size never throw (beyond year 9999 the field stays an attribute)', () => {
    fc.assert(
      fc.property(fc.constantFrom('time', 'ts', 'timestamp'), fc.double(), (key, t) => {
        const { lines } = runPipeline(`{"${key}":${JSON.stringify(t)},"msg":"x"}\n`, { format: 'json' });
        expect(JSON.parse(lines[0]!).body).toBe('x');
      }),
      { numRuns: 300 },
    );
  });
});
