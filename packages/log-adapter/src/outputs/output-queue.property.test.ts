import { tempDir } from '@dds/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputQueue, type OutputStats } from './output-queue.js';
import type { SendResult, Sink } from './sink.js';
import { Spool } from './spool.js';

// The queue's contract, whatever the backend answers: every record is delivered exactly once
// (a failed send stores nothing), batches are acknowledged in the order they were written and only
// after their records were delivered (policy block) or fsynced to the disk spool (policy spool),
// and 413 halves a batch until it fits.

type Answer = 'ok' | 'retry' | 'tooLarge' | 'refused' | 'throw';

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as ConstructorParameters<
  typeof OutputQueue
>[0]['logger'];

/** Stats that count sent records and fail the test on any drop (policy block never drops). */
function stats(): OutputStats & { records: number } {
  const s = {
    records: 0,
    sent(n: number) {
      s.records += n;
    },
    dropped() {
      throw new Error('policy block dropped a batch');
    },
    deadLettered() {
      throw new Error('no dead-letter file was configured');
    },
    rejected() {},
    retried() {},
    blocked() {},
  };
  return s;
}

/** A sink that answers from a script (then ok), refuses bodies over maxLines with 413, and records what it took. */
class ScriptedSink implements Sink {
  readonly delivered: string[] = [];
  private i = 0;
  constructor(
    private readonly answers: Answer[],
    private readonly maxLines: number,
  ) {}
  async send(body: string, records: number): Promise<SendResult> {
    await Promise.resolve();
    if (records > this.maxLines)
      return { ok: false, retry: false, tooLarge: true, status: 413, reason: '413' };
    const a = this.answers[this.i++] ?? 'ok';
    if (a === 'throw') throw new Error('socket hang up');
    if (a === 'retry') return { ok: false, retry: true, status: 503, reason: '503' };
    if (a === 'tooLarge') return { ok: false, retry: false, tooLarge: true, status: 413, reason: '413' };
    // a refusal with no dead-letter file and policy block is held and retried: it heals here
    if (a === 'refused') return { ok: false, retry: false, status: 500, reason: '500' };
    for (const l of body.split('\n')) if (l) this.delivered.push(l);
    return { ok: true };
  }
  async close(): Promise<void> {}
}

describe('output queue (property)', () => {
  it.each(['block', 'spool'] as const)(
    'policy %s: every record delivered exactly once, acknowledgements in order',
    async (policy) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 12 }),
          fc.array(fc.constantFrom<Answer>('ok', 'retry', 'tooLarge', 'refused', 'throw'), { maxLength: 15 }),
          fc.integer({ min: 1, max: 8 }),
          fc.integer({ min: 16, max: 400 }),
          async (batches, answers, maxLines, batchBytes) => {
            const sink = new ScriptedSink(answers, maxLines);
            const st = stats();
            const q = new OutputQueue({
              name: 'test',
              policy,
              sink,
              batchBytes,
              flushInterval: 0,
              bufferBytes: 1 << 20,
              retryLimit: 0,
              retryBase: 1,
              retryMax: 2,
              spool: policy === 'spool' ? new Spool(tempDir('log-adapter-spool-prop'), 1 << 20) : undefined,
              deadLetter: undefined,
              stats: st,
              logger: silent,
            });
            const acked: number[] = [];
            let n = 0;
            const expected: string[] = [];
            batches.forEach((size, b) => {
              let data = '';
              for (let k = 0; k < size; k++) {
                const line = `{"n":${n++}}`;
                expected.push(line);
                data += `${line}\n`;
              }
              const firstLine = `{"n":${n - size}}`;
              q.write(data, size, () => {
                // block: acknowledged only once its records reached the sink (spool: once on disk)
                if (policy === 'block') expect(sink.delivered).toContain(firstLine);
                acked.push(b);
              });
            });
            await q.close(Date.now() + 10_000);
            expect(acked).toEqual(batches.map((_, b) => b));
            expect(sink.delivered).toEqual(expected);
            expect(st.records).toBe(expected.length);
          },
        ),
        { numRuns: policy === 'spool' ? 60 : 150 },
      );
    },
    60_000,
  );
});
