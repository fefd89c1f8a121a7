import type { HashFn } from './bytes.js';
import { crc16 } from './crc16.js';
import { crc32, crc32a } from './crc32.js';
import { farm, loadFarmhash } from './farm.js';
import { fnv1_32, fnv1_64, fnv1a_32, fnv1a_64 } from './fnv.js';
import { hsieh } from './hsieh.js';
import { jenkins } from './jenkins.js';
import { md5 } from './md5.js';
import { murmur } from './murmur.js';
import { oneAtATime } from './one-at-a-time.js';

export type { HashFn } from './bytes.js';

/**
 * Every key hash by its nutcracker.yaml name (`farmhash` is our addition), each made when a pool
 * names it: the CRC tables are built then, and farmhash's native addon is loaded only then.
 */
const MAKERS = {
  one_at_a_time: () => oneAtATime,
  md5: () => md5,
  crc16,
  crc32,
  crc32a,
  fnv1_64: () => fnv1_64,
  fnv1a_64: () => fnv1a_64,
  fnv1_32: () => fnv1_32,
  fnv1a_32: () => fnv1a_32,
  hsieh: () => hsieh,
  murmur: () => murmur,
  jenkins: () => jenkins,
  farmhash: farm,
} as const satisfies Record<string, () => HashFn>;

export type HashName = keyof typeof MAKERS;
export const HASH_NAMES = Object.keys(MAKERS) as [HashName, ...HashName[]];

const made = new Map<HashName, HashFn>();

/** The hash function of that name (made once per process). */
export function hashNamed(name: HashName): HashFn {
  let fn = made.get(name);
  if (!fn) {
    fn = MAKERS[name]();
    made.set(name, fn);
  }
  return fn;
}

/** Loads what the named hashes need before a pool uses them (farmhash: its native addon). */
export async function prepareHashes(names: Iterable<HashName>): Promise<void> {
  for (const n of names) if (n === 'farmhash') await loadFarmhash();
}
