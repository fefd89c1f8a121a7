import type { HashFn } from './bytes.js';
import { crc16 } from './crc16.js';
import { crc32, crc32a } from './crc32.js';
import { farm } from './farm.js';
import { fnv1_32, fnv1_64, fnv1a_32, fnv1a_64 } from './fnv.js';
import { hsieh } from './hsieh.js';
import { jenkins } from './jenkins.js';
import { md5 } from './md5.js';
import { murmur } from './murmur.js';
import { oneAtATime } from './one-at-a-time.js';

export type { HashFn } from './bytes.js';

/** Every key hash by its nutcracker.yaml name; `farmhash` is our addition. */
export const HASHES = {
  one_at_a_time: oneAtATime,
  md5,
  crc16,
  crc32,
  crc32a,
  fnv1_64,
  fnv1a_64,
  fnv1_32,
  fnv1a_32,
  hsieh,
  murmur,
  jenkins,
  farmhash: farm,
} as const satisfies Record<string, HashFn>;

export type HashName = keyof typeof HASHES;
export const HASH_NAMES = Object.keys(HASHES) as [HashName, ...HashName[]];
