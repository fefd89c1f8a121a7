import { type HashFn, signedByte } from './bytes.js';

// twemproxy truncates every FNV variant to 32 bits. For fnv1_64 only the low 32 bits of the
// 64-bit product survive, and those depend only on the low 32 bits of the operands, so 32-bit
// arithmetic with the truncated constants is exact. fnv1a_64 is computed in 32 bits outright.
const INIT64_LOW = 0x84222325;
const PRIME64_LOW = 0x000001b3;
const INIT32 = 0x811c9dc5;
const PRIME32 = 0x01000193;

const fnv1 =
  (init: number, prime: number): HashFn =>
  (buf, start, end) => {
    let h = init;
    for (let i = start; i < end; i++) h = (Math.imul(h, prime) ^ signedByte(buf[i]!)) >>> 0;
    return h >>> 0;
  };

const fnv1a =
  (init: number, prime: number): HashFn =>
  (buf, start, end) => {
    let h = init;
    for (let i = start; i < end; i++) h = Math.imul(h ^ signedByte(buf[i]!), prime) >>> 0;
    return h >>> 0;
  };

export const fnv1_64 = fnv1(INIT64_LOW, PRIME64_LOW);
export const fnv1a_64 = fnv1a(INIT64_LOW, PRIME64_LOW);
export const fnv1_32 = fnv1(INIT32, PRIME32);
export const fnv1a_32 = fnv1a(INIT32, PRIME32);
