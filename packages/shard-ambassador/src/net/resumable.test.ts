import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcacheReplyFramer } from '../memcache/memcache-reply.js';
import {
  type MemcacheLimits,
  MemcacheProtocolError,
  MemcacheRequestParser,
} from '../memcache/memcache-request.js';
import { ReplyKind } from '../memcache/reply-kind.js';
import { RespReplyFramer } from '../redis/resp-reply.js';
import { ProtocolError, RespRequestParser } from '../redis/resp-request.js';

// "Work done on a partial frame is never redone": each parser is given part of a frame, then the
// whole frame with the part it already saw overwritten by bytes that would end or break the frame
// (LFs, CRLFs, '*'). A parser that scanned from the frame start again would stop early or throw;
// a resumable one carries on from where it stopped and frames the real end.

const RESP_LIMITS = { maxArgs: 1 << 20, maxSize: 64 << 20, maxInline: 64 << 10 };
const MC_LIMITS: MemcacheLimits = {
  maxTokens: 1 << 20,
  maxSize: 64 << 20,
  maxLine: 2048,
  maxKey: 250,
  maxValue: 1 << 20,
};

/** `frame` with its first `cut` bytes replaced by `poison` (cycled). */
const poisoned = (frame: Buffer, cut: number, poison: string): Buffer => {
  const b = Buffer.from(frame);
  for (let i = 0; i < cut; i++) b[i] = poison.charCodeAt(i % poison.length);
  return b;
};

const encode = (args: Buffer[]) =>
  Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')]),
  ]);

/**
 * How much of a RESP request cut at `cut` the parser is done with: all of it, except a header
 * line (`*n`, `$n`) still without its CRLF and the CRLF after an argument, which it reads when
 * they complete (a few bytes, never the frame again).
 */
function doneWith(args: Buffer[], cut: number): number {
  const parts: [number, number, boolean][] = []; // [start, end, fully read once cut passes start]
  let at = 0;
  const add = (n: number, reread: boolean) => {
    parts.push([at, at + n, reread]);
    at += n;
  };
  add(`*${args.length}\r\n`.length, true);
  for (const a of args) {
    add(`$${a.length}\r\n`.length, true);
    add(a.length, false);
    add(2, true);
  }
  for (const [start, end, reread] of parts) if (cut > start && cut < end && reread) return start;
  return cut;
}

describe('resumable parsers: a partial frame is never scanned again (poisoned prefix)', () => {
  it('RESP multibulk: arguments already parsed are kept, wherever the cuts fall', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ maxLength: 30 }).map((u) => Buffer.from(u)),
          { minLength: 1, maxLength: 8 },
        ),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.nat(20),
        (args, cuts, lead) => {
          const frame = encode(args);
          const p = new RespRequestParser(RESP_LIMITS);
          // the frame first sits at `lead` in the buffer (behind earlier requests), then at 0
          const points = [...new Set(cuts.map((c) => c % frame.length))]
            .filter((c) => c > 0)
            .sort((a, b) => a - b);
          let seen = 0;
          let first = true;
          for (const cut of points) {
            const lead0 = first ? lead : 0;
            const buf = Buffer.concat([
              Buffer.alloc(lead0, 0x41),
              poisoned(frame.subarray(0, cut), seen, '\r\n*'),
            ]);
            if (p.parse(buf, lead0, buf.length)) throw new Error('a partial frame completed');
            first = false;
            seen = doneWith(args, cut);
          }
          const whole = poisoned(frame, seen, '\r\n*');
          expect(p.parse(whole, 0, whole.length)).toBe(true);
          expect(p.frameEnd).toBe(frame.length);
          // the arguments are where the real frame has them
          const got = Array.from({ length: p.argc }, (_, i) => frame.subarray(p.starts[i]!, p.ends[i]!));
          expect(got).toEqual(args);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('RESP inline, memcache lines: the LF search resumes where it stopped', () => {
    const line = Buffer.from(`get ${'k'.repeat(100)} ${'x'.repeat(100)}\r\n`);
    for (let cut = 1; cut < line.length - 1; cut++) {
      const r = new RespRequestParser(RESP_LIMITS);
      expect(r.parse(line, 0, cut)).toBe(false);
      const w = poisoned(line, cut, '\n');
      expect(r.parse(w, 0, w.length)).toBe(true);
      expect(r.frameEnd).toBe(line.length);

      const m = new MemcacheRequestParser(MC_LIMITS);
      expect(m.parse(line, 0, cut, () => -1)).toBe(false);
      const poisonedLine = poisoned(line, cut, '\n');
      expect(m.parse(poisonedLine, 0, poisonedLine.length, () => -1)).toBe(true);
      expect(m.frameEnd).toBe(line.length);
      expect(m.ntokens).toBe(3);
    }
  });

  it('memcache get lines of any length, cut anywhere: the same tokens as a split on spaces', () => {
    const key = fc.stringMatching(/^[a-z0-9:]{1,250}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.constantFrom(' ', ' ', '  ')), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.boolean(),
        (keys, cuts, cr) => {
          const text = `get ${keys.map(([k, sp]) => k + sp).join('')}`.trimEnd();
          const line = Buffer.from(`${text}${cr ? '\r' : ''}\n`);
          const m = new MemcacheRequestParser(MC_LIMITS);
          const points = [...new Set(cuts.map((c) => c % line.length))].sort((a, b) => a - b);
          for (const cut of points) expect(m.parse(line, 0, cut, () => -1)).toBe(false);
          expect(m.parse(line, 0, line.length, () => -1)).toBe(true);
          expect(m.frameEnd).toBe(line.length);
          const tokens = Array.from({ length: m.ntokens }, (_, i) => m.token(line, i));
          expect(tokens).toEqual(text.split(' ').filter((t) => t !== ''));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('RESP replies: a million-element array arriving in 64 KiB reads is walked once', () => {
    const n = 1 << 20;
    const wire = Buffer.concat([Buffer.from(`*${n}\r\n`), Buffer.from(':1\r\n'.repeat(n))]);
    const f = new RespReplyFramer();
    const head = `*${n}\r\n`.length;
    let seen = 0;
    for (let end = 65_536; end < wire.length; end += 65_536) {
      // the elements already walked are poisoned: a fresh walk would throw on them
      const b = poisoned(wire.subarray(0, end), seen, '?');
      expect(f.frame(b, 0, end)).toBe(-1);
      seen = head + Math.floor((end - head) / 4) * 4;
    }
    expect(f.frame(poisoned(wire, seen, '?'), 0, wire.length)).toBe(wire.length);
  });

  it('memcache replies: VALUE blocks already walked are not walked again', () => {
    const block = (i: number) => `VALUE key${i} 0 5\r\nvalue\r\n`;
    const wire = Buffer.from(`${Array.from({ length: 5000 }, (_, i) => block(i)).join('')}END\r\n`);
    const f = new MemcacheReplyFramer();
    let seen = 0;
    for (let end = 997; end < wire.length; end += 997) {
      // a block boundary before `seen` is all the framer needs; its bytes may be anything
      const b = poisoned(wire.subarray(0, end), Math.max(seen - 40, 0), '?');
      expect(f.frame(b, 0, end, ReplyKind.Retrieval)).toBe(-1);
      seen = end;
    }
    expect(f.frame(poisoned(wire, seen - 40, '?'), 0, wire.length, ReplyKind.Retrieval)).toBe(wire.length);
  });
});

describe('limits apply while a frame arrives, before it is buffered whole', () => {
  it('a memcache line other than a get is refused past 2048 bytes; a get line past a 250-byte key', () => {
    const m = new MemcacheRequestParser(MC_LIMITS);
    const junk = Buffer.alloc(4096, 0x78);
    expect(m.parse(junk, 0, 2048, () => -1)).toBe(false);
    expect(() => m.parse(junk, 0, 2049, () => -1)).toThrow(/line too long \(over 2048 bytes\)/);
    const g = new MemcacheRequestParser(MC_LIMITS);
    const get = Buffer.from(`get ${'k'.repeat(300)}`);
    expect(() => g.parse(get, 0, get.length, () => -1)).toThrow(MemcacheProtocolError);
    expect(() => new MemcacheRequestParser(MC_LIMITS).parse(get, 0, get.length, () => -1)).toThrow(
      /key longer than 250 bytes/,
    );
    // a long get line of short keys is fine until the request limits
    const many = Buffer.from(`get ${'k '.repeat(5000)}`);
    expect(new MemcacheRequestParser(MC_LIMITS).parse(many, 0, many.length, () => -1)).toBe(false);
    expect(() =>
      new MemcacheRequestParser({ ...MC_LIMITS, maxTokens: 100 }).parse(many, 0, many.length, () => -1),
    ).toThrow(/too many keys/);
  });

  it('RESP: an inline command past 64 KiB, a header line with no CRLF, unauthenticated sizes', () => {
    const inline = Buffer.alloc(70_000, 0x61);
    expect(() => new RespRequestParser(RESP_LIMITS).parse(inline, 0, inline.length)).toThrow(
      /too big inline request/,
    );
    const header = Buffer.from(`*${'1'.repeat(40)}`);
    expect(() => new RespRequestParser(RESP_LIMITS).parse(header, 0, header.length)).toThrow(
      /invalid multibulk length/,
    );
    const p = new RespRequestParser(RESP_LIMITS);
    p.unauthenticated = true;
    const eleven = encode(Array.from({ length: 11 }, () => Buffer.from('x')));
    expect(() => p.parse(eleven, 0, eleven.length)).toThrow(/unauthenticated multibulk length/);
    const q = new RespRequestParser(RESP_LIMITS);
    q.unauthenticated = true;
    const big = Buffer.from('*2\r\n$4\r\nAUTH\r\n$20000\r\n');
    expect(() => q.parse(big, 0, big.length)).toThrow(ProtocolError);
  });
});
