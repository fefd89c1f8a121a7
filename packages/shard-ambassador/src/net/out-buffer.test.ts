import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutBuffer } from './out-buffer.js';

describe('OutBuffer (property test)', () => {
  it.each([4096, 16 * 1024])(
    'slabs of %i: what is taken is exactly what was appended, in order, and later appends never change it',
    (slab) => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              fc.uint8Array({ maxLength: 100 }),
              fc.uint8Array({ maxLength: 40_000 }),
              fc.constant(null),
            ),
            {
              maxLength: 60,
            },
          ),
          (ops) => {
            const out = new OutBuffer(slab);
            const taken: Buffer[] = [];
            const snapshots: Buffer[] = [];
            const appended: Buffer[] = [];
            for (const op of ops) {
              if (op === null) {
                if (out.length === 0) continue;
                const b = out.take();
                taken.push(b);
                snapshots.push(Buffer.from(b));
                continue;
              }
              // a view into a bigger buffer, as the proxy appends from the read buffer
              const src = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(op), Buffer.from([4])]);
              out.append(src, 3, 3 + op.length);
              appended.push(Buffer.from(op));
            }
            if (out.length > 0) {
              const b = out.take();
              taken.push(b);
              snapshots.push(Buffer.from(b));
            }
            expect(out.length).toBe(0);
            expect(Buffer.concat(taken)).toEqual(Buffer.concat(appended));
            // a taken region is never reused: the bytes handed to a write stay as they were
            expect(taken).toEqual(snapshots);
          },
        ),
        { numRuns: 300 },
      );
    },
  );
});
