/**
 * Index of the first `byte` in buf[from, end), or -1. Short ranges (a command line, a reply
 * line) are scanned in JS, cheaper than the call into Buffer#indexOf; indexOf never looks past
 * `end` (a shared read buffer holds stale bytes there).
 */
export function findByte(buf: Uint8Array, byte: number, from: number, end: number): number {
  if (end - from > 256) {
    const i = buf.subarray(from, end).indexOf(byte);
    return i < 0 ? -1 : from + i;
  }
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}
