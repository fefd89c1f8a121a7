/** Something that buffers output and writes it in one go. */
export interface Flushable {
  flush(): void;
}

const dirty: Flushable[] = [];
let scheduled = false;

function run(): void {
  // flushing may mark more connections dirty; the loop picks them up too
  for (let i = 0; i < dirty.length; i++) dirty[i]!.flush();
  dirty.length = 0;
  scheduled = false;
}

/**
 * Batches writes per event-loop turn: every connection that got output during this turn's
 * I/O callbacks is flushed once in the check phase, so 50 clients' pipelines reach a shard
 * as one writev instead of 50 writes. Callers add themselves once per turn (they keep a flag).
 */
export function scheduleFlush(c: Flushable): void {
  dirty.push(c);
  if (!scheduled) {
    scheduled = true;
    setImmediate(run);
  }
}
