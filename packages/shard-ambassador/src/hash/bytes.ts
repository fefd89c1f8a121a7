/**
 * twemproxy hashes `const char *` keys: on x86 a byte >= 0x80 is sign-extended when widened,
 * which changes the result of several hashes. This reproduces that quirk.
 */
export const signedByte = (b: number): number => ((b << 24) >> 24) >>> 0;

/** A hash over key bytes buf[start, end), returning an unsigned 32-bit value. */
export type HashFn = (buf: Buffer, start: number, end: number) => number;
