import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RespReplyFramer } from './resp-reply.js';
import { ProtocolError, RespRequestParser } from './resp-request.js';

const encode = (args: Buffer[]) =>
  Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')]),
  ]);

/** Feeds `chunks` to the parser like a socket would, keeping the unparsed tail. */
function parseStream(p: RespRequestParser, chunks: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  let pending = Buffer.alloc(0);
  for (const c of chunks) {
    pending = Buffer.concat([pending, c]);
    let pos = 0;
    while (pos < pending.length && p.parse(pending, pos, pending.length)) {
      const args: Buffer[] = [];
      for (let i = 0; i < p.argc; i++) args.push(Buffer.from(pending.subarray(p.starts[i]!, p.ends[i]!)));
      out.push(args);
      pos = p.frameEnd;
    }
    pending = pending.subarray(pos);
  }
  return out;
}

const splitAt = (b: Buffer, cuts: number[]) => {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(b.subarray(last, p));
    last = p;
  }
  parts.push(b.subarray(last));
  return parts;
};

describe('RESP request parser (property tests)', () => {
  it('any pipeline of requests, cut into any chunks, parses back to the same arguments', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
            { minLength: 1, maxLength: 6 },
          ),
          { minLength: 1, maxLength: 8 },
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        (reqs, cuts) => {
          const p = new RespRequestParser({ maxArgs: 1024, maxSize: 1 << 20, maxInline: 1 << 16 });
          const wire = Buffer.concat(reqs.map(encode));
          expect(parseStream(p, splitAt(wire, cuts))).toEqual(reqs);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes never crash or hang it: it parses, waits for more, or throws a ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
        const p = new RespRequestParser({ maxArgs: 16, maxSize: 1024, maxInline: 512 });
        const b = Buffer.from(u);
        let pos = 0;
        try {
          for (let n = 0; pos < b.length && n < 1000; n++) {
            if (!p.parse(b, pos, b.length)) break;
            expect(p.frameEnd).toBeGreaterThan(pos);
            pos = p.frameEnd;
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('limits: too many arguments or too large a request are refused', () => {
    const p = new RespRequestParser({ maxArgs: 4, maxSize: 100, maxInline: 100 });
    expect(() => p.parse(encode([1, 2, 3, 4, 5].map((i) => Buffer.from(String(i)))), 0, 100)).toThrow(
      /too many arguments/,
    );
    const big = encode([Buffer.from('SET'), Buffer.from('k'), Buffer.alloc(200)]);
    expect(() => p.parse(big, 0, 40)).toThrow(/larger than 100 bytes/);
  });
});

describe('RESP reply framer (property tests)', () => {
  const reply: fc.Arbitrary<string> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.stringMatching(/^[a-zA-Z ]{0,20}$/).map((s) => `+${s}\r\n`),
      fc.stringMatching(/^[a-zA-Z ]{0,20}$/).map((s) => `-ERR ${s}\r\n`),
      fc.integer().map((n) => `:${n}\r\n`),
      fc.constant('$-1\r\n'),
      fc.string({ maxLength: 30 }).map((s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`),
      fc.array(tie('node'), { maxLength: 4 }).map((xs) => `*${xs.length}\r\n${xs.join('')}`),
    ),
  })).node as fc.Arbitrary<string>;

  it('frames any sequence of replies exactly, however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.array(reply, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (replies, cuts) => {
          const f = new RespReplyFramer();
          const wire = Buffer.from(replies.join(''));
          const got: string[] = [];
          let pending = Buffer.alloc(0);
          for (const c of splitAt(wire, cuts)) {
            pending = Buffer.concat([pending, c]);
            let pos = 0;
            for (;;) {
              const e = f.frame(pending, pos, pending.length);
              if (e < 0) {
                expect(f.need).toBeGreaterThan(pending.length - pos);
                break;
              }
              got.push(pending.toString('utf8', pos, e));
              pos = e;
              if (pos === pending.length) break;
            }
            pending = pending.subarray(pos);
          }
          expect(got).toEqual(replies);
        },
      ),
      { numRuns: 300 },
    );
  });
});
