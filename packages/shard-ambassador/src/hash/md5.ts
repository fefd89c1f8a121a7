import { createHash } from 'node:crypto';
import type { HashFn } from './bytes.js';

/** First four digest bytes, little endian, starting at word `alignment` (0..3). */
export function md5Word(data: Buffer | string, alignment = 0): number {
  return createHash('md5')
    .update(data)
    .digest()
    .readUInt32LE(alignment * 4);
}

export const md5: HashFn = (buf, start, end) => md5Word(buf.subarray(start, end));
