import farmhash from 'farmhash';
import { describe, expect, it } from 'vitest';
import { HASH_NAMES, hashNamed, prepareHashes } from './index.js';

const key = Buffer.from('xx123456789yy');
const of = (name: Parameters<typeof hashNamed>[0]) => hashNamed(name)(key, 2, 11);

describe('hashes made on first use', () => {
  it('the CRC tables are built when a pool names them, with the known check values', () => {
    expect(of('crc32a')).toBe(0xcbf43926); // CRC-32 of "123456789"
    expect(of('crc32')).toBe((0xcbf43926 >>> 16) & 0x7fff); // libmemcached's bits 16..30
    expect(of('crc16') & 0xffff).toBe(0x31c3); // CRC-16/XMODEM of "123456789"
    expect(hashNamed('crc16')).toBe(hashNamed('crc16')); // made once
  });

  it('farmhash needs prepareHashes (its native addon loads then), and is FarmHash fingerprint32', async () => {
    expect(() => hashNamed('farmhash')).toThrow(/farmhash is not loaded/);
    await prepareHashes(['fnv1a_64', 'farmhash']);
    expect(of('farmhash')).toBe(farmhash.fingerprint32(Buffer.from('123456789')));
  });

  it('every name makes a hash that returns an unsigned 32-bit value', async () => {
    await prepareHashes(HASH_NAMES);
    for (const name of HASH_NAMES) {
      const h = of(name);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, name).toBe(true);
    }
  });
});
