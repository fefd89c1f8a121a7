import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ketama } from './ketama.js';

/** The plain definition: the owner of the first point >= hash, wrapping to the first point. */
function reference(k: Ketama, hash: number): number {
  const { values, owners } = k as unknown as { values: Uint32Array; owners: Uint32Array };
  for (let i = 0; i < values.length; i++) if (values[i]! >= hash) return owners[i]!;
  return owners[0]!;
}

describe('Ketama dispatch with bucket index (property test)', () => {
  it('finds the same server as a scan of the ring, for any servers and any hash', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.string({ minLength: 1, maxLength: 12 }),
            weight: fc.integer({ min: 1, max: 5 }),
          }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 200 }),
        (servers, hashes) => {
          const k = new Ketama(servers.map((s, index) => ({ ...s, index })));
          const { values } = k as unknown as { values: Uint32Array };
          // the edges: every point itself, one below and above it, and the ends of the range
          const probes = [...hashes, 0, 0xffffffff];
          for (const v of values) probes.push(v, Math.max(0, v - 1), Math.min(0xffffffff, v + 1));
          for (const h of probes) expect(k.dispatch(h)).toBe(reference(k, h));
        },
      ),
      { numRuns: 40 },
    );
  });
});
