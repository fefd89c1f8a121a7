import type { HashFn } from './bytes.js';

/** CRC-16/XMODEM table (polynomial 0x1021), built by the first pool that uses crc16. */
function table(): Uint16Array {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[n] = c;
  }
  return t;
}

/**
 * twemproxy 0.5's crc16: the XMODEM update, but on a 32-bit accumulator that is never masked
 * to 16 bits, so the high bits of the result keep the shifted-out history. Placement depends
 * on that quirk.
 */
export function crc16(): HashFn {
  const TABLE = table();
  return (buf, start, end) => {
    let crc = 0;
    for (let i = start; i < end; i++) crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ buf[i]!) & 0xff]!) >>> 0;
    return crc;
  };
}
