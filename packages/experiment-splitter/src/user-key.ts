import { type KeyedRequest, type KeySource, readKeySource } from '@dds/core/http/key-source';
import type { TrustedProxies } from '@dds/core/http/trusted-proxies';

/** Longest key hashed as given; longer ones are cut (they still hash stably). */
const MAX_KEY = 512;

/**
 * The request's user key (core's key sources: `cookie:NAME`, `header:NAME` or `ip`), or
 * undefined when the request carries none.
 */
export function userKey(req: KeyedRequest, src: KeySource, trusted: TrustedProxies): string | undefined {
  const v = readKeySource(req, src, trusted);
  if (v === undefined) return undefined;
  return v.length > MAX_KEY ? v.slice(0, MAX_KEY) : v;
}
