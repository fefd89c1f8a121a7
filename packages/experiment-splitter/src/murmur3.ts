/**
 * MurmurHash3 x86_32 over the UTF-8 bytes of a string (Austin Appleby's reference algorithm,
 * the same numbers as Python's `mmh3.hash(s, seed, signed=False)` or Guava's murmur3_32_fixed),
 * so a data team can recompute any user's bucket offline. Pure JS: no native addon, and no
 * allocation for ASCII keys (the usual ids, UUIDs, addresses).
 */
export function murmur3(key: string, seed: number): number {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return murmur3Bytes(Buffer.from(key, 'utf8').toString('latin1'), seed);
  }
  return murmur3Bytes(key, seed);
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** The hash over bytes given as a string with one char per byte (0..255). */
export function murmur3Bytes(bytes: string, seed: number): number {
  const len = bytes.length;
  const blocks = len & ~3;
  let h = seed >>> 0;
  for (let i = 0; i < blocks; i += 4) {
    let k =
      bytes.charCodeAt(i) |
      (bytes.charCodeAt(i + 1) << 8) |
      (bytes.charCodeAt(i + 2) << 16) |
      (bytes.charCodeAt(i + 3) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest) {
    let k = bytes.charCodeAt(blocks);
    if (rest >= 2) k ^= bytes.charCodeAt(blocks + 1) << 8;
    if (rest === 3) k ^= bytes.charCodeAt(blocks + 2) << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
