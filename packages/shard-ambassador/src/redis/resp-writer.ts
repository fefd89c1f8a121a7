import type { OutBuffer } from '../net/out-buffer.js';

/** Writes RESP straight into a connection's output: no intermediate strings or buffers. */

/** Appends `*n\r\n`. */
export function writeArrayHeader(out: OutBuffer, n: number): void {
  writeHeader(out, 0x2a, n);
}

/** Appends buf[start, end) as a bulk string: `$len\r\n<bytes>\r\n`. */
export function writeBulk(out: OutBuffer, buf: Buffer, start: number, end: number): void {
  writeHeader(out, 0x24, end - start);
  out.append(buf, start, end);
  const slab = out.reserve(2);
  const o = out.writeOffset;
  slab[o] = 13;
  slab[o + 1] = 10;
  out.advance(2);
}

function writeHeader(out: OutBuffer, type: number, n: number): void {
  const digits = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length;
  const slab = out.reserve(digits + 3);
  let o = out.writeOffset;
  slab[o++] = type;
  for (let i = digits - 1, v = n; i >= 0; i--, v = Math.floor(v / 10)) slab[o + i] = 48 + (v % 10);
  o += digits;
  slab[o] = 13;
  slab[o + 1] = 10;
  out.advance(digits + 3);
}
