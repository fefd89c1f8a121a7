/**
 * Copies src[from, to) to dst at `at`; returns the number of bytes copied. Small copies (under 40 bytes: most
 * replies and values) loop in JS: Buffer#copy of a range builds a view per call.
 */
export function copyBytes(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): number {
  const n = to - from;
  if (n < 40) for (let i = 0; i < n; i++) dst[at + i] = src[from + i]!;
  else dst.set(src.subarray(from, to), at);
  return n;
}
