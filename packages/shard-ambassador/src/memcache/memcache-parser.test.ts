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

/** Limits where the line limit is the request limit (the property tests vary it). */
const limits = (maxTokens: number, maxSize: number) => ({
  maxTokens,
  maxSize,
  maxLine: maxSize,
  maxKey: 250,
  maxValue: maxSize,
});

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
        const p = new MemcacheRequestParser(limits(64, 1 << 20));
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

  it('tokenizes exactly like a separate LF search and split on spaces (differential)', () => {
    /** the plain definition: find the LF, drop a CR before it, split the rest on spaces */
    const reference = (b: Buffer, maxTokens: number, maxSize: number) => {
      const nl = b.indexOf(10);
      if (nl < 0) return b.length > maxSize ? 'error' : 'wait';
      if (nl > maxSize) return 'error';
      const stop = nl > 0 && b[nl - 1] === 13 ? nl - 1 : nl;
      const tokens = b
        .toString('latin1', 0, stop)
        .split(' ')
        .filter((t) => t !== '');
      return tokens.length > maxTokens ? 'error' : { tokens, frameEnd: nl + 1 };
    };
    const byte = fc.constantFrom(0x61, 0x62, 0x20, 0x20, 13, 10, 0x7a, 0xff);
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), (bytes, maxTokens) => {
        const b = Buffer.from(bytes);
        const maxSize = 30;
        const want = reference(b, maxTokens, maxSize);
        const p = new MemcacheRequestParser(limits(maxTokens, maxSize));
        let got: typeof want;
        try {
          got = p.parse(b, 0, b.length, () => -1)
            ? { tokens: Array.from({ length: p.ntokens }, (_, i) => p.token(b, i)), frameEnd: p.frameEnd }
            : 'wait';
        } catch (e) {
          expect(e).toBeInstanceOf(MemcacheProtocolError);
          got = 'error';
        }
        // an unfinished line that already holds too many tokens may be refused before its LF
        if (want === 'wait' && got === 'error') {
          expect(
            b
              .toString('latin1')
              .split(' ')
              .filter((t) => t !== '').length,
          ).toBeGreaterThan(maxTokens);
          return;
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('frames retrieval replies like the two-pass definition (differential, every prefix)', () => {
    /** the plain definition: find each line's LF, then split it on spaces; <bytes> is token 4 */
    const reference = (b: Buffer): number | 'throw' => {
      let p = 0;
      for (;;) {
        const nl = b.indexOf(10, p);
        if (nl < 0) return -1;
        if (!b.toString('latin1', p, p + 6).startsWith('VALUE ')) return nl + 1;
        const stop = nl > p && b[nl - 1] === 13 ? nl - 1 : nl;
        const t = b
          .toString('latin1', p, stop)
          .split(' ')
          .filter((x) => x !== '');
        if (t.length < 4 || !/^\d{1,16}$/.test(t[3]!)) return 'throw';
        const end = nl + 1 + Number(t[3]) + 2;
        if (end > b.length) return -1;
        p = end;
      }
    };
    const piece = fc.oneof(
      fc
        .tuple(key, fc.nat(99), fc.uint8Array({ maxLength: 20 }), fc.boolean())
        .map(([k, flags, v, cas]) =>
          Buffer.concat([
            Buffer.from(`VALUE ${k} ${flags} ${v.length}${cas ? ' 77' : ''}\r\n`),
            Buffer.from(v),
            Buffer.from('\r\n'),
          ]),
        ),
      fc
        .constantFrom('VALUE k 0\r\n', 'VALUE k 0 x\r\n', 'VALUE  k  0  2 \r\nab\r\n', 'SERVER_ERROR no\r\n')
        .map((x) => Buffer.from(x)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 4 }), fc.boolean(), (pieces, end) => {
        const wire = Buffer.concat([...pieces, Buffer.from(end ? 'END\r\n' : '')]);
        for (let cut = 0; cut <= wire.length; cut++) {
          const b = wire.subarray(0, cut);
          const want = reference(b);
          let got: number | 'throw';
          try {
            got = new MemcacheReplyFramer().frame(b, 0, b.length, ReplyKind.Retrieval);
          } catch {
            got = 'throw';
          }
          // an unfinished bad line may be refused before its LF arrives
          if (want === -1 && got === 'throw') continue;
          expect(got).toBe(want);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes never crash it: parse, wait, or a MemcacheProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (u) => {
        const b = Buffer.from(u);
        const p = new MemcacheRequestParser(limits(16, 256));
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
