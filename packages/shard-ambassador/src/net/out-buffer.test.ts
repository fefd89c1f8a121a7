import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutBuffer } from './out-buffer.js';

describe('OutBuffer (property test)', () => {
  it.each([4096, 16 * 1024])(
    'slabs of %i: what is taken is exactly what was appended, in order, and stays unchanged until written()',
    (slab) => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              fc.uint8Array({ maxLength: 100 }),
              fc.uint8Array({ maxLength: 40_000 }),
              fc.constant('take' as const),
              fc.constant('written' as const),
            ),
            { maxLength: 60 },
          ),
          (ops) => {
            const out = new OutBuffer(slab);
            const snapshots: Buffer[] = [];
            const appended: Buffer[] = [];
            /** taken since the last written(), with their bytes at take time */
            let inFlight: { view: Buffer; copy: Buffer }[] = [];
            const take = () => {
              const view = out.take();
              const copy = Buffer.from(view);
              snapshots.push(copy);
              inFlight.push({ view, copy });
            };
            for (const op of ops) {
              if (op === 'take') {
                if (out.length > 0) take();
                continue;
              }
              if (op === 'written') {
                // until written(), a taken region is never reused: the bytes of a write stay put
                for (const f of inFlight) expect(f.view).toEqual(f.copy);
                inFlight = [];
                out.written();
                continue;
              }
              // a view into a bigger buffer, as the proxy appends from the read buffer
              const src = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(op), Buffer.from([4])]);
              out.append(src, 3, 3 + op.length);
              appended.push(Buffer.from(op));
            }
            if (out.length > 0) take();
            for (const f of inFlight) expect(f.view).toEqual(f.copy);
            expect(out.length).toBe(0);
            expect(Buffer.concat(snapshots)).toEqual(Buffer.concat(appended));
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it('reuses the slab and its view for writes that went out at once', () => {
    const out = new OutBuffer(4096);
    out.push(Buffer.from('+OK\r\n'));
    const first = out.take();
    out.written();
    out.push(Buffer.from('+NO\r\n'));
    const second = out.take();
    expect(second).toBe(first);
    expect(second.toString()).toBe('+NO\r\n');
    // without written() the next bytes go elsewhere: the first write may still be in flight
    out.push(Buffer.from('+XY\r\n'));
    const third = out.take();
    expect(third).not.toBe(second);
    expect(second.toString()).toBe('+NO\r\n');
    expect(third.toString()).toBe('+XY\r\n');
  });
});
