import { createHash, timingSafeEqual } from 'node:crypto';
import { readSecretFile, zSecretFile } from '../config/secret-file.js';
import { setting, shapeOf } from '../config/settings.js';

/**
 * Admin actions: admin routes that change state (POST, PUT, PATCH, DELETE). The kubelet and
 * Prometheus only read, so reads stay open; an action needs `Authorization: Bearer <token>` with
 * the token from `--admin-token-file`, and without that file every action is refused. The file
 * is read at each action, so a rotated Secret applies at once and the token is never held in
 * the config (nor shown by /config).
 */

/** Shortest token accepted: 128 bits as hex, or about 96 as base64. */
export const MIN_TOKEN_LENGTH = 16;

/** `--admin-token-file`: empty, or a readable file holding a usable token. */
export const adminTokenSettings = {
  adminTokenFile: setting.string({
    help: 'file holding the token admin actions (POST ...) need as "Authorization: Bearer TOKEN"; unset: actions are refused',
    metavar: 'FILE',
    default: '',
    group: 'Common',
    schema: zSecretFile(MIN_TOKEN_LENGTH),
  }),
};

/** `adminTokenFile` for a component's schema. */
export const adminTokenSchema = shapeOf(adminTokenSettings);

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export type ActionVerdict = { ok: true } | { ok: false; status: 401 | 403 | 503; error: string };

/** Whether a request may run an admin action, given the token file in effect (if any). */
export function authorizeAction(
  authorization: string | undefined,
  tokenFile: string | undefined,
): ActionVerdict {
  if (!tokenFile)
    return { ok: false, status: 403, error: 'admin actions are off: start with --admin-token-file FILE' };
  const r = readSecretFile(tokenFile, MIN_TOKEN_LENGTH);
  if ('error' in r) return { ok: false, status: 503, error: `admin actions unavailable: ${r.error}` };
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  // compared as digests: equal lengths for timingSafeEqual, and no timing signal on the length
  if (!m || !timingSafeEqual(digest(m[1]!), digest(r.secret)))
    return {
      ok: false,
      status: 401,
      error: 'admin action needs "Authorization: Bearer <token from --admin-token-file>"',
    };
  return { ok: true };
}
