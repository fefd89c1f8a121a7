import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplyStore } from './reply-store.js';
import { Request } from './request.js';

describe('ReplyStore (property test)', () => {
  it('a kept reply reads back unchanged until released, whatever is kept or released meanwhile', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.uint8Array({ maxLength: 20_000 }),
            fc.constant(null),
          ),
          {
            maxLength: 120,
          },
        ),
        (ops) => {
          const store = new ReplyStore();
          const held: { req: Request; want: Buffer }[] = [];
          const shared = Buffer.alloc(32 * 1024);
          for (const op of ops) {
            if (op === null) {
              const h = held.shift();
              if (h === undefined) continue;
              expect(h.req.reply!.subarray(h.req.replyStart, h.req.replyEnd).equals(h.want)).toBe(true);
              h.req.reply = null;
              store.release();
              continue;
            }
            // the bytes come from a reused read buffer, scribbled over afterwards
            shared.set(op, 5);
            const req = new Request(null);
            store.keep(req, shared, 5, 5 + op.length);
            shared.fill(0xee);
            held.push({ req, want: Buffer.from(op) });
          }
          for (const h of held)
            expect(h.req.reply!.subarray(h.req.replyStart, h.req.replyEnd).equals(h.want)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
