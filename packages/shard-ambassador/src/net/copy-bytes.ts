import { READ_BUFFER } from '@dds/core/net/read-buffer';

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

/** A DataView of the shared read buffer, for copyView. */
export const READ_VIEW = new DataView(READ_BUFFER.buffer, READ_BUFFER.byteOffset, READ_BUFFER.length);

/** Copies up to this many bytes with copyView; above it TypedArray#set (one view) is cheaper. */
export const VIEW_COPY_MAX = 128;

/**
 * Copies src[from, to) to dst at `at` through DataViews of both, four bytes per step: no view
 * object per copy (TypedArray#set needs a subarray of the source, which costs more than the
 * copy itself for the 20-150 byte requests and replies of a proxy). Returns the bytes copied.
 */
export function copyView(src: DataView, from: number, to: number, dst: DataView, at: number): number {
  const n = to - from;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    dst.setInt32(at + i, src.getInt32(from + i, true), true);
    dst.setInt32(at + i + 4, src.getInt32(from + i + 4, true), true);
  }
  for (; i < n; i++) dst.setUint8(at + i, src.getUint8(from + i));
  return n;
}
