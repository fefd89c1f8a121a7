import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcacheReplyFramer } from './memcache-reply.js';
import { MemcacheProtocolError, MemcacheRequestParser } from './memcache-request.js';
import { ReplyKind } from './reply-kind.js';

const dataLength = (p: MemcacheRequestParser, buf: Buffer): number => {
  const name = p.token(buf, 0);
  if (name !== 'set' || p.ntokens < 5) return -1;
  const n = p.int(buf, 4);
  if (n === null || n < 0) throw new MemcacheProtocolError('bad data chunk length');
  return n;
};

const key = fc.stringMatching(/^[a-zA-Z0-9:_-]{1,30}$/);
const request = fc.oneof(
  fc
    .array(key, { minLength: 1, maxLength: 5 })
    .map((ks) => ({ wire: `get ${ks.join(' ')}\r\n`, tokens: 1 + ks.length, data: '' })),
  fc.tuple(key, fc.string({ maxLength: 50 })).map(([k, v]) => {
    const data = Buffer.from(v).toString('latin1');
    return { wire: `set ${k} 0 0 ${Buffer.byteLength(v)}\r\n${data}\r\n`, tokens: 5, data };
  }),
  key.map((k) => ({ wire: `delete ${k}\r\n`, tokens: 2, data: '' })),
);

describe('memcache request parser and reply framer (property tests)', () => {
  it('any pipeline of requests, cut anywhere, parses back to the same frames', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 8 }), fc.nat(), (reqs, cut) => {
        const wire = Buffer.from(reqs.map((r) => r.wire).join(''), 'latin1');
        const at = cut % (wire.length + 1);
        const p = new MemcacheRequestParser(64, 1 << 20);
        const frames: string[] = [];
        let pending = Buffer.alloc(0);
        for (const chunk of [wire.subarray(0, at), wire.subarray(at)]) {
          pending = Buffer.concat([pending, chunk]);
          let pos = 0;
          while (pos < pending.length && p.parse(pending, pos, pending.length, dataLength)) {
            frames.push(pending.toString('latin1', pos, p.frameEnd));
            pos = p.frameEnd;
          }
          pending = pending.subarray(pos);
        }
        expect(frames).toEqual(reqs.map((r) => r.wire));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never crash it: parse, wait, or a MemcacheProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (u) => {
        const b = Buffer.from(u);
        const p = new MemcacheRequestParser(16, 256);
        let pos = 0;
        try {
          while (pos < b.length && p.parse(b, pos, b.length, dataLength)) {
            expect(p.frameEnd).toBeGreaterThan(pos);
            pos = p.frameEnd;
          }
        } catch (e) {
          expect(e).toBeInstanceOf(MemcacheProtocolError);
        }
        const f = new MemcacheReplyFramer();
        try {
          f.frame(b, 0, b.length, ReplyKind.Retrieval);
        } catch (e) {
          expect((e as Error).message).toMatch(/invalid VALUE line/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('frames retrieval replies with binary values, cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.uint8Array({ maxLength: 40 })), { maxLength: 5 }),
        fc.nat(),
        (items, cut) => {
          const wire = Buffer.concat([
            ...items.map(([k, v]) =>
              Buffer.concat([
                Buffer.from(`VALUE ${k} 0 ${v.length}\r\n`),
                Buffer.from(v),
                Buffer.from('\r\n'),
              ]),
            ),
            Buffer.from('END\r\n'),
          ]);
          const f = new MemcacheReplyFramer();
          const at = cut % (wire.length + 1);
          const first = f.frame(wire.subarray(0, at), 0, at, ReplyKind.Retrieval);
          expect(first === -1 || first === wire.length).toBe(true);
          expect(f.frame(wire, 0, wire.length, ReplyKind.Retrieval)).toBe(wire.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
