import { copyBytes } from '../net/copy-bytes.js';
import type { OutBuffer } from '../net/out-buffer.js';

/** Writes RESP straight into a connection's output: no intermediate strings or buffers. */

/** Appends `*n\r\n`. */
export function writeArrayHeader(out: OutBuffer, n: number): void {
  const slab = out.reserve(digits(n) + 3);
  const at = out.writeOffset;
  out.advance(writeHeader(slab, at, 0x2a, n) - at);
}

/** Appends buf[start, end) as a bulk string: `$len\r\n<bytes>\r\n`. */
export function writeBulk(out: OutBuffer, buf: Buffer, start: number, end: number): void {
  const n = end - start;
  const slab = out.reserve(n + digits(n) + 5);
  const at = out.writeOffset;
  let o = writeHeader(slab, at, 0x24, n);
  o += copyBytes(buf, start, end, slab, o);
  slab[o++] = 13;
  slab[o++] = 10;
  out.advance(o - at);
}

const digits = (n: number): number => (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length);

/** Length of `<type><n>\r\n` (n >= 0). */
export const headerLength = (n: number): number => digits(n) + 3;

/** `<type><n>\r\n` (n >= 0) at `at`; returns the offset after it. */
export function writeHeader(slab: Buffer, at: number, type: number, n: number): number {
  const d = digits(n);
  let o = at;
  slab[o++] = type;
  for (let i = d - 1, v = n; i >= 0; i--, v = Math.floor(v / 10)) slab[o + i] = 48 + (v % 10);
  o += d;
  slab[o++] = 13;
  slab[o++] = 10;
  return o;
}
