import { createRequire } from 'node:module';

// cluster-key-slot is the CRC16 slot function ioredis's Cluster routes with (no type declarations).
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

/** The Redis Cluster hash slot of a key: CRC16 of its hash tag (`{...}`) or of the whole key, mod 16384. */
export const redisKeySlot = (key: string): number => calculateSlot(key);
