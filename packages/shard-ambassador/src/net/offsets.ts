/**
 * Adds `delta` to a[from, to) and b[from, to): a resumable parser keeps the offsets of a partial
 * frame relative to its start (the frame moves to the start of the connection's input buffer)
 * and turns them back into buffer offsets once the frame completes.
 */
export function shiftOffsets(a: Int32Array, b: Int32Array, from: number, to: number, delta: number): void {
  for (let k = from; k < to; k++) {
    a[k] = a[k]! + delta;
    b[k] = b[k]! + delta;
  }
}
