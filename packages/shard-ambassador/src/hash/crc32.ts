import type { HashFn } from './bytes.js';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32Raw(buf: Buffer, start: number, end: number): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return ~crc >>> 0;
}

/** `crc32` as libmemcached (and so twemproxy) defines it: bits 16..30 of the real CRC-32. */
export const crc32: HashFn = (buf, start, end) => (crc32Raw(buf, start, end) >>> 16) & 0x7fff;

/** `crc32a`: the standard CRC-32. */
export const crc32a: HashFn = crc32Raw;
