import { isTlsErrorCode, UNREACHABLE_CODES } from '../net/socket-errors.js';
import { RedisConfigError } from './redis-target.js';

/** Why talking to Redis failed; a fixed set, usable as a metric label. */
export type RedisFailureReason =
  | 'auth'
  | 'permission'
  | 'tls'
  | 'unreachable'
  | 'timeout'
  | 'loading'
  | 'cluster_down'
  | 'config'
  | 'protocol'
  | 'error';

export interface RedisFailure {
  reason: RedisFailureReason;
  message: string;
  /** the failure is a setting (password, CA, ACL): it will not heal by waiting */
  misconfigured: boolean;
}

/** Maps what ioredis or a socket threw onto a reason and a readable message. */
export function redisFailure(err: unknown): RedisFailure {
  const e = err as NodeJS.ErrnoException & { lastNodeError?: Error };
  const message = e?.message || String(err);
  const code = typeof e?.code === 'string' ? e.code : '';
  const f = (reason: RedisFailureReason, text = message, misconfigured = false): RedisFailure => ({
    reason,
    message: text,
    misconfigured,
  });
  if (err instanceof RedisConfigError) return f('config', message, true);
  if (/^(WRONGPASS|NOAUTH)|invalid password|invalid username-password/i.test(message))
    return f('auth', `authentication failed: ${message}`, true);
  if (/^NOPERM/.test(message)) return f('permission', `ACL denies it: ${message}`, true);
  if (
    isTlsErrorCode(code) ||
    /certificate|wrong version number|ssl3_get_record|packet length too long/i.test(message)
  )
    return f('tls', `TLS: ${message}`, true);
  if (/^LOADING/.test(message)) return f('loading', message);
  if (/^CLUSTERDOWN|Failed to refresh slots cache|None of startup nodes is available/.test(message)) {
    const last = e?.lastNodeError ? redisFailure(e.lastNodeError) : undefined;
    if (last?.misconfigured) return last;
    return f('cluster_down', message);
  }
  if (
    UNREACHABLE_CODES.has(code) ||
    /Connection is closed|unreachable|Stream isn't writeable|All sentinels/i.test(message)
  )
    return f('unreachable', message);
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(message)) return f('timeout', message);
  if (/^ERR|^WRONGTYPE|^NOSCRIPT|Protocol error/.test(message)) return f('protocol', message);
  return f('error', message);
}
