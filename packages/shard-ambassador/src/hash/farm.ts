import farmhash from 'farmhash';
import type { HashFn } from './bytes.js';

/** Google's FarmHash (32-bit fingerprint): not in twemproxy, offered as a fast modern option. */
export const farm: HashFn = (buf, start, end) => farmhash.fingerprint32(buf.subarray(start, end));
