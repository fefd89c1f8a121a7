import type { HashFn } from './bytes.js';

/** twemproxy's crc16: the reflected CRC-16/ARC (polynomial 0xA001), initial value 0. */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export const crc16: HashFn = (buf, start, end) => {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]!) & 0xff]!;
  return crc & 0xffff;
};
