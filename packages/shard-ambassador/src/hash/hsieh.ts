import { type HashFn, signedByte } from './bytes.js';

/** Paul Hsieh's SuperFastHash as twemproxy has it (note the signed third byte of a 3-byte tail). */
export const hsieh: HashFn = (buf, start, end) => {
  const len = end - start;
  if (len <= 0) return 0;
  let hash = 0;
  let p = start;
  const rem = len & 3;
  for (let n = len >>> 2; n > 0; n--) {
    hash = (hash + (buf[p]! | (buf[p + 1]! << 8))) >>> 0;
    const tmp = (((buf[p + 2]! | (buf[p + 3]! << 8)) << 11) ^ hash) >>> 0;
    hash = ((hash << 16) ^ tmp) >>> 0;
    p += 4;
    hash = (hash + (hash >>> 11)) >>> 0;
  }
  switch (rem) {
    case 3:
      hash = (hash + (buf[p]! | (buf[p + 1]! << 8))) >>> 0;
      hash = (hash ^ (hash << 16)) >>> 0;
      hash = (hash ^ (signedByte(buf[p + 2]!) << 18)) >>> 0;
      hash = (hash + (hash >>> 11)) >>> 0;
      break;
    case 2:
      hash = (hash + (buf[p]! | (buf[p + 1]! << 8))) >>> 0;
      hash = (hash ^ (hash << 11)) >>> 0;
      hash = (hash + (hash >>> 17)) >>> 0;
      break;
    case 1:
      hash = (hash + buf[p]!) >>> 0;
      hash = (hash ^ (hash << 10)) >>> 0;
      hash = (hash + (hash >>> 1)) >>> 0;
      break;
  }
  hash = (hash ^ (hash << 3)) >>> 0;
  hash = (hash + (hash >>> 5)) >>> 0;
  hash = (hash ^ (hash << 4)) >>> 0;
  hash = (hash + (hash >>> 17)) >>> 0;
  hash = (hash ^ (hash << 25)) >>> 0;
  hash = (hash + (hash >>> 6)) >>> 0;
  return hash;
};
