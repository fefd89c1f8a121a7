import { createHmac, randomBytes } from 'node:crypto';

/** How hot keys appear in metric labels (`--hotkeys-metric-keys`). */
export type HotKeyLabelMode = 'hash' | 'name' | 'off';

/**
 * Keyed per process: a label cannot be reversed by hashing guessed key names (user ids, email
 * addresses), and it still identifies a key for as long as the process runs; /hotkeys on the
 * admin port shows each name beside its hash.
 */
const SECRET = randomBytes(32);

/** The metric label of a hot key: `h:` and 16 hex digits of an HMAC-SHA256 of its bytes. */
export function hashedKey(key: Buffer | string): string {
  return `h:${createHmac('sha256', SECRET).update(key).digest('hex').slice(0, 16)}`;
}

/** Longest key name put in a label in `name` mode; longer names are cut and marked. */
const MAX_LABEL = 128;

/** The metric label of a hot key in `name` mode. */
export function nameLabel(key: string): string {
  return key.length > MAX_LABEL ? `${key.slice(0, MAX_LABEL)}…` : key;
}
