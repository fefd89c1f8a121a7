import type { Output } from './output.js';
import type { OutputQueue } from './output-queue.js';

/**
 * Several outputs behind one: each batch goes to every output's own queue, and the inputs'
 * positions move past it once every blocking output (`block`, `spool`) has it for good. `drop`
 * outputs never hold positions back; with only such outputs a batch counts as taken at once.
 * The set of outputs can be swapped on reload: batches already handed to an output finish there.
 */
export class Fanout implements Output {
  /** writes that arrived while the outputs were being swapped */
  private held: Array<[string, number, () => void]> | undefined;
  private swapped: Promise<void> = Promise.resolve();

  constructor(public outputs: OutputQueue[]) {}

  /** Replaces the set of outputs; writes in the meantime wait and then go to the new set. */
  async swap(build: () => Promise<OutputQueue[]>): Promise<void> {
    this.held = [];
    let release = () => {};
    this.swapped = new Promise<void>((r) => {
      release = r;
    });
    try {
      this.outputs = await build();
    } finally {
      const held = this.held;
      this.held = undefined;
      release();
      for (const [b, n, d] of held) this.write(b, n, d);
    }
  }

  write(batch: string, records: number, done: () => void): void {
    if (this.held) {
      this.held.push([batch, records, done]);
      return;
    }
    const outs = this.outputs;
    let left = 0;
    for (const o of outs) if (o.blocking) left++;
    const one = () => {
      if (--left === 0) done();
    };
    for (const o of outs) o.write(batch, records, o.blocking ? one : noop);
    if (left === 0) done();
  }

  async room(): Promise<void> {
    await this.swapped;
    for (const o of this.outputs) await o.room();
  }

  async close(deadline: number): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.close(deadline)));
  }
}

const noop = () => {};
