import { encodeCommand } from '@dds/core/redis/resp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutBuffer } from '../net/out-buffer.js';
import { RespRequestParser } from './resp-request.js';
import { writeArrayHeader, writeBulk } from './resp-writer.js';

describe('RESP writer (property test)', () => {
  it('writes the same bytes as encodeCommand, which the request parser reads back', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 990, maxLength: 20_000 })),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        (args) => {
          const bufs = args.map((a) => Buffer.from(a));
          const out = new OutBuffer();
          writeArrayHeader(out, bufs.length);
          // from inside a bigger buffer, as the proxy writes keys from the read buffer
          for (const b of bufs)
            writeBulk(out, Buffer.concat([Buffer.from('xx'), b, Buffer.from('yy')]), 2, 2 + b.length);
          const wire = out.take();
          // Buffer#equals: a deep toEqual of 20 KB buffers took most of the test's time
          expect(wire.equals(encodeCommand(bufs))).toBe(true);
          const p = new RespRequestParser({ maxArgs: 64, maxSize: 1 << 20, maxInline: 1 << 16 });
          expect(p.parse(wire, 0, wire.length)).toBe(true);
          expect(p.frameEnd).toBe(wire.length);
          expect(p.argc).toBe(bufs.length);
          for (let i = 0; i < p.argc; i++)
            expect(wire.subarray(p.starts[i]!, p.ends[i]!).equals(bufs[i]!)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
