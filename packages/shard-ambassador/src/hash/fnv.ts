import type { HashFn } from './bytes.js';

// twemproxy truncates every FNV variant to 32 bits. For fnv1_64 only the low 32 bits of the
// 64-bit product survive, and those depend only on the low 32 bits of the operands, so 32-bit
// arithmetic with the truncated constants is exact. fnv1a_64 is computed in 32 bits outright.
const INIT64_LOW = 0x84222325;
const PRIME64_LOW = 0x000001b3;
const INIT32 = 0x811c9dc5;
const PRIME32 = 0x01000193;

// The loops stay in int32 (a sign-extended byte XORed in gives the same low 32 bits as the
// unsigned one) and convert to unsigned once at the end: no float arithmetic per byte.
const fnv1 =
  (init: number, prime: number): HashFn =>
  (buf, start, end) => {
    let h = init | 0;
    for (let i = start; i < end; i++) h = Math.imul(h, prime) ^ ((buf[i]! << 24) >> 24);
    return h >>> 0;
  };

const fnv1a =
  (init: number, prime: number): HashFn =>
  (buf, start, end) => {
    let h = init | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ ((buf[i]! << 24) >> 24), prime);
    return h >>> 0;
  };

export const fnv1_64 = fnv1(INIT64_LOW, PRIME64_LOW);
export const fnv1a_64 = fnv1a(INIT64_LOW, PRIME64_LOW);
export const fnv1_32 = fnv1(INIT32, PRIME32);
export const fnv1a_32 = fnv1a(INIT32, PRIME32);
