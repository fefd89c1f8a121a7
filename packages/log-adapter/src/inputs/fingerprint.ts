import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/**
 * A file's identity beyond its inode: a hash of its first bytes. Inodes are reused after a
 * delete and change when a volume is re-mounted; the fingerprint tells a truncated-and-rewritten
 * or a different file from the one a position belongs to.
 */
export interface Fingerprint {
  /** bytes hashed (less than the configured size while the file is shorter) */
  len: number;
  hash: string;
}

export async function fingerprint(fh: FileHandle, size: number, max: number): Promise<Fingerprint> {
  const len = Math.min(size, max);
  if (len === 0) return { len: 0, hash: '' };
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, 0);
  return {
    len: bytesRead,
    hash: createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex').slice(0, 32),
  };
}
