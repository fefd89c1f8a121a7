import { readFileSync } from 'node:fs';
import * as z from './zod.js';

/**
 * A file holding one secret (a token, an HMAC key), as Kubernetes mounts a Secret: read when it
 * is needed, so a rotated Secret applies without a restart and the secret is never part of the
 * config (nor shown by /config). Surrounding whitespace (the newline `echo` adds) is ignored.
 */
export function readSecretFile(file: string, minLength: number): { secret: string } | { error: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { error: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const secret = text.trim();
  if (secret.length < minLength)
    return { error: `${file} holds ${secret.length} characters; at least ${minLength} are needed` };
  if (/\s/.test(secret)) return { error: `${file} must hold one secret without spaces or line breaks` };
  return { secret };
}

/** A config field naming such a file: empty (unset), or a readable file with a usable secret. */
export const zSecretFile = (minLength: number) =>
  z._default(
    z.string().check(
      z.superRefine((f, ctx) => {
        if (f === '') return;
        const r = readSecretFile(f, minLength);
        if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
      }),
    ),
    '',
  );
