import { type HashFn, signedByte } from './bytes.js';

/** Bob Jenkins' one-at-a-time hash, as twemproxy (libmemcached) computes it. */
export const oneAtATime: HashFn = (buf, start, end) => {
  let v = 0;
  for (let i = start; i < end; i++) {
    v = (v + signedByte(buf[i]!)) >>> 0;
    v = (v + (v << 10)) >>> 0;
    v = (v ^ (v >>> 6)) >>> 0;
  }
  v = (v + (v << 3)) >>> 0;
  v = (v ^ (v >>> 11)) >>> 0;
  v = (v + (v << 15)) >>> 0;
  return v;
};
