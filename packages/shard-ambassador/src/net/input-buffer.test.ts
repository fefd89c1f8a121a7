import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemcacheReplyFramer } from '../memcache/memcache-reply.js';
import { ReplyKind } from '../memcache/reply-kind.js';
import { RespRequestParser } from '../redis/resp-request.js';
import { InputBuffer } from './input-buffer.js';

const encode = (args: Uint8Array[]) =>
  Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), Buffer.from(a), Buffer.from('\r\n')]),
  ]);

/** Cuts `wire` at the given points (taken modulo its length). */
function chunks(wire: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of [...points, wire.length]) {
    if (p > last) out.push(wire.subarray(last, p));
    last = p;
  }
  return out;
}

/**
 * Feeds chunks like the sockets do: each one lands in the same shared buffer, which is
 * scribbled over after every read, so anything kept by reference instead of copied breaks.
 */
function feed(chunkList: Buffer[], onBytes: (buf: Buffer, end: number) => { used: number; need: number }) {
  const shared = Buffer.alloc(64 * 1024);
  const input = new InputBuffer();
  for (const c of chunkList) {
    c.copy(shared);
    if (input.push(shared, c.length)) {
      const { used, need } = onBytes(input.data, input.end);
      input.keep(used, need);
    }
    shared.fill(0x2a);
  }
  return input;
}

describe('InputBuffer over a shared, reused read buffer (property tests)', () => {
  it('RESP requests cut anywhere parse back to the same arguments, nothing left over', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (reqs, cuts) => {
          const all = Buffer.concat(reqs.map(encode));
          const p = new RespRequestParser({ maxArgs: 1024, maxSize: 1 << 20, maxInline: 1 << 16 });
          const seen: Buffer[][] = [];
          const left = feed(chunks(all, cuts), (buf, end) => {
            let pos = 0;
            while (pos < end && p.parse(buf, pos, end)) {
              const args: Buffer[] = [];
              for (let i = 0; i < p.argc; i++) args.push(Buffer.from(buf.subarray(p.starts[i]!, p.ends[i]!)));
              seen.push(args);
              pos = p.frameEnd;
            }
            return { used: pos, need: pos < end ? p.need : 0 };
          });
          expect(seen).toEqual(reqs.map((r) => r.map((a) => Buffer.from(a))));
          expect(left.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('memcached retrieval replies with binary values, cut anywhere, frame back exactly', () => {
    const value = (key: number, data: Uint8Array) =>
      Buffer.concat([
        Buffer.from(`VALUE k${key} 0 ${data.length}\r\n`),
        Buffer.from(data),
        Buffer.from('\r\n'),
      ]);
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 3 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (replies, cuts) => {
          const frames = replies.map((vals) =>
            Buffer.concat([...vals.map((v, i) => value(i, v)), Buffer.from('END\r\n')]),
          );
          const framer = new MemcacheReplyFramer();
          const seen: Buffer[] = [];
          feed(chunks(Buffer.concat(frames), cuts), (buf, end) => {
            let pos = 0;
            while (pos < end) {
              const e = framer.frame(buf, pos, end, ReplyKind.Retrieval);
              if (e < 0) break;
              seen.push(Buffer.from(buf.subarray(pos, e)));
              pos = e;
            }
            return { used: pos, need: pos < end ? framer.need : 0 };
          });
          expect(seen).toEqual(frames);
        },
      ),
      { numRuns: 200 },
    );
  });
});
