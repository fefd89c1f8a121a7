import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Forcing a variant (for testers and QA) without letting every client pick its variant: with an
 * override secret, an override value is `VARIANT:SIGNATURE`, where SIGNATURE is
 * base64url(HMAC-SHA256(secret, "EXPERIMENT/VARIANT")), padding optional. The secret never
 * travels; a signature opens one variant of one experiment. Without a secret the value is the
 * bare variant name, and any client that knows the header or cookie can choose its variant.
 */
export function overrideSignature(secret: string, experiment: string, variant: string): Buffer {
  return createHmac('sha256', secret).update(`${experiment}/${variant}`).digest();
}

/** The variant an override value names, if the value may force it; undefined otherwise. */
export function overrideTarget<V>(
  value: string,
  byName: ReadonlyMap<string, V>,
  signatures: ReadonlyMap<string, Buffer> | undefined,
): V | undefined {
  if (signatures === undefined) return byName.get(value);
  const colon = value.indexOf(':');
  if (colon < 0) return undefined;
  const name = value.slice(0, colon);
  const want = signatures.get(name);
  if (want === undefined) return undefined;
  const got = Buffer.from(value.slice(colon + 1), 'base64url');
  return got.length === want.length && timingSafeEqual(got, want) ? byName.get(name) : undefined;
}
