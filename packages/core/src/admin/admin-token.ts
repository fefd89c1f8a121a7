import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { FlagSpec } from '../config/flags.js';

/**
 * Admin actions: admin routes that change state (POST, PUT, PATCH, DELETE). The kubelet and
 * Prometheus only read, so reads stay open; an action needs `Authorization: Bearer <token>` with
 * the token from `--admin-token-file`, and without that file every action is refused. The file
 * is read at each action, so a rotated Secret applies at once and the token is never held in
 * the config (nor shown by /config).
 */

/** Shortest token accepted: 128 bits as hex, or about 96 as base64. */
export const MIN_TOKEN_LENGTH = 16;

export const adminTokenFlag = (group = 'Common'): FlagSpec => ({
  name: 'admin-token-file',
  type: 'string',
  help: `file holding the token admin actions (POST ...) need as "Authorization: Bearer TOKEN"; unset: actions are refused`,
  metavar: 'FILE',
  default: '',
  group,
});

/** Reads and checks a token file; the reason it cannot serve, or the token. */
export function readAdminToken(file: string): { token: string } | { error: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { error: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH)
    return { error: `${file} holds ${token.length} characters; a token needs at least ${MIN_TOKEN_LENGTH}` };
  if (/\s/.test(token)) return { error: `${file} must hold one token without spaces or line breaks` };
  return { token };
}

/** `adminTokenFile` for a component's schema: empty, or a readable file holding a usable token. */
export const adminTokenSchema = {
  adminTokenFile: z.string().superRefine((f, ctx) => {
    if (f === '') return;
    const r = readAdminToken(f);
    if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
  }),
};

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export type ActionVerdict = { ok: true } | { ok: false; status: 401 | 403 | 503; error: string };

/** Whether a request may run an admin action, given the token file in effect (if any). */
export function authorizeAction(
  authorization: string | undefined,
  tokenFile: string | undefined,
): ActionVerdict {
  if (!tokenFile)
    return { ok: false, status: 403, error: 'admin actions are off: start with --admin-token-file FILE' };
  const r = readAdminToken(tokenFile);
  if ('error' in r) return { ok: false, status: 503, error: `admin actions unavailable: ${r.error}` };
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  // compared as digests: equal lengths for timingSafeEqual, and no timing signal on the length
  if (!m || !timingSafeEqual(digest(m[1]!), digest(r.token)))
    return {
      ok: false,
      status: 401,
      error: 'admin action needs "Authorization: Bearer <token from --admin-token-file>"',
    };
  return { ok: true };
}
