/**
 * Where JSON lines go. `write` takes a batch of whole lines and calls `done` once the batch is
 * accepted for good (written, delivered, or given up on and counted as dropped): only then may
 * the position file move past its lines.
 */
export interface Output {
  write(batch: string, records: number, done: () => void): void;
  /** resolves when the output has room for more (backpressure towards the readers) */
  room(): Promise<void>;
  /** delivers what is queued, until the deadline */
  close(deadline: number): Promise<void>;
}
