import type { HashFn } from './bytes.js';

let addon: typeof import('farmhash') | undefined;

/**
 * Loads farmhash's native addon (and the C++ runtime it links): only a process with a pool that
 * names `hash: farmhash` pays for it (prepareHashes, before such a pool is made).
 */
export async function loadFarmhash(): Promise<void> {
  addon ??= (await import('farmhash')).default;
}

/** Google's FarmHash (32-bit fingerprint): not in twemproxy, offered as a fast modern option. */
export function farm(): HashFn {
  const f = addon;
  if (!f) throw new Error('farmhash is not loaded: prepareHashes() before making a pool that uses it');
  return (buf, start, end) => f.fingerprint32(buf.subarray(start, end));
}
