/**
 * Index of the first `byte` in buf[from, end), or -1. The first bytes (a command line, a reply
 * line) are scanned in JS, cheaper than a call into Buffer#indexOf; a long line goes to indexOf,
 * which never looks past `end` (a shared read buffer holds stale bytes there).
 */
export function findByte(buf: Uint8Array, byte: number, from: number, end: number): number {
  const near = Math.min(end, from + 256);
  for (let i = from; i < near; i++) if (buf[i] === byte) return i;
  if (near === end) return -1;
  const i = buf.subarray(near, end).indexOf(byte);
  return i < 0 ? -1 : near + i;
}
