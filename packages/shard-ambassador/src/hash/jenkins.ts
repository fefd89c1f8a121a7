import type { HashFn } from './bytes.js';

const rot = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** Bob Jenkins' lookup3 hashlittle() with libmemcached's initial value (13). */
export const jenkins: HashFn = (buf, start, end) => {
  let len = end - start;
  let a = (0xdeadbeef + len + 13) | 0;
  let b = a;
  let c = a;
  if (len === 0) return c >>> 0;
  let p = start;
  while (len > 12) {
    a = (a + word(buf, p, end)) | 0;
    b = (b + word(buf, p + 4, end)) | 0;
    c = (c + word(buf, p + 8, end)) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    len -= 12;
    p += 12;
  }
  // the last 1..12 bytes; word() stops at the key's end, which is the masking of the C code
  if (len > 8) c = (c + word(buf, p + 8, end)) | 0;
  if (len > 4) b = (b + word(buf, p + 4, end)) | 0;
  a = (a + word(buf, p, end)) | 0;
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return c >>> 0;
};

/** Little-endian word from the up to 4 key bytes left at i (the C code's masked reads). */
function word(buf: Buffer, i: number, end: number): number {
  let w = 0;
  for (let j = 0; j < 4 && i + j < end; j++) w |= buf[i + j]! << (8 * j);
  return w;
}
