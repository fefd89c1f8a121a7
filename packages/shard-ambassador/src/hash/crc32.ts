import type { HashFn } from './bytes.js';

/** The CRC-32 table (reflected, polynomial 0xedb88320), built by the first pool that uses it. */
let TABLE: Uint32Array | undefined;
function table(): Uint32Array {
  if (TABLE) return TABLE;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c >>> 0;
  }
  TABLE = t;
  return t;
}

/** `crc32a`: the standard CRC-32. */
export function crc32a(): HashFn {
  const T = table();
  return (buf, start, end) => {
    let crc = 0xffffffff;
    for (let i = start; i < end; i++) crc = (crc >>> 8) ^ T[(crc ^ buf[i]!) & 0xff]!;
    return ~crc >>> 0;
  };
}

/** `crc32` as libmemcached (and so twemproxy) defines it: bits 16..30 of the real CRC-32. */
export function crc32(): HashFn {
  const raw = crc32a();
  return (buf, start, end) => (raw(buf, start, end) >>> 16) & 0x7fff;
}
