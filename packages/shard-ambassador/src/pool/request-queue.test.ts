import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Request } from './request.js';
import { RequestQueue } from './request-queue.js';

describe('RequestQueue (property test)', () => {
  it('behaves like an array used as a FIFO, across growth and wrap-around', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('push'), fc.constant('shift'), fc.constant('drain')), {
          maxLength: 400,
        }),
        (ops) => {
          const q = new RequestQueue();
          const model: Request[] = [];
          for (const op of ops) {
            if (op === 'push') {
              const r = new Request(null);
              q.push(r);
              model.push(r);
            } else if (op === 'shift') expect(q.shift()).toBe(model.shift());
            else {
              const got = q.drain();
              const want = model.splice(0);
              expect(got.length).toBe(want.length);
              for (let i = 0; i < got.length; i++) expect(got[i]).toBe(want[i]);
            }
            expect(q.length).toBe(model.length);
            expect(q.peek()).toBe(model[0]);
            for (let i = 0; i < model.length; i++) expect(q.at(i)).toBe(model[i]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
