import type { HashFn } from './bytes.js';

const M = 0x5bd1e995;

/** MurmurHash2 with libmemcached's length-derived seed. */
export const murmur: HashFn = (buf, start, end) => {
  let len = end - start;
  const seed = Math.imul(0xdeadbeef, len) >>> 0;
  let h = (seed ^ len) >>> 0;
  let p = start;
  while (len >= 4) {
    let k = buf.readUInt32LE(p);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
    p += 4;
    len -= 4;
  }
  // the 1..3 byte tail, highest byte first (the C code's fall-through switch)
  if (len === 3) h ^= buf[p + 2]! << 16;
  if (len >= 2) h ^= buf[p + 1]! << 8;
  if (len >= 1) {
    h ^= buf[p]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h >>> 0;
};
