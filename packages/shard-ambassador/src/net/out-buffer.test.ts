import { READ_BUFFER } from '@dds/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyView, VIEW_COPY_MAX } from './copy-bytes.js';
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

describe('copies out of the shared read buffer (property test)', () => {
  it('append from READ_BUFFER (DataView copy up to VIEW_COPY_MAX bytes) equals the bytes appended', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(READ_BUFFER.length - 1), fc.nat(VIEW_COPY_MAX + 40), fc.integer()), {
          maxLength: 80,
        }),
        (ops) => {
          const out = new OutBuffer(4096);
          const expected: Buffer[] = [];
          for (const [from, len, seed] of ops) {
            const to = Math.min(READ_BUFFER.length, from + len);
            for (let i = from; i < to; i++) READ_BUFFER[i] = (i * 131 + seed) & 0xff;
            expected.push(Buffer.from(READ_BUFFER.subarray(from, to)));
            out.append(READ_BUFFER, from, to);
          }
          const all = Buffer.concat(expected);
          if (all.length === 0) return;
          expect(Buffer.from(out.take()).equals(all)).toBe(true);
        },
      ),
    );
  });

  it('copyView copies any range between any offsets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), fc.nat(64), (bytes, cut, at) => {
        const from = Math.min(cut, bytes.length);
        const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
        const dst = new Uint8Array(at + bytes.length);
        const n = copyView(src, from, bytes.length, new DataView(dst.buffer), at);
        expect(n).toBe(bytes.length - from);
        expect(Buffer.from(dst.subarray(at, at + n)).equals(Buffer.from(bytes.subarray(from)))).toBe(true);
      }),
    );
  });
});
