import { isPlainObject } from './object-path.js';

/** What a secret value is replaced with wherever config is shown. */
export const REDACTED = '<redacted>';

/** Names of fields that hold a secret: `redisPassword`, `apiToken`, `redis_auth`, `jwtSecret`. */
const SECRET_KEY = /(password|passwd|secret|token|credential|api[-_]?key|authorization|(^|_)auth$)/i;
/** ...unless they name where the secret lives (`passwordFile`, `tokenFile`, `passwordEnv`). */
const SECRET_REFERENCE = /(file|env|path|dir|name)$/i;

/** Whether a config key names a secret (its value is never printed). */
export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key) && !SECRET_REFERENCE.test(key);

/** `scheme://user:password@` -> the password part. */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@\s:?#]*:)([^/@\s?#]+)@/i;
/** One `name=value` of a query string. */
const QUERY_PARAM = /([?&])([^=&#]+)=([^&#]*)/g;
const IS_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A URL with its secrets masked and nothing else changed: the password of its user info and
 * query parameters named like secrets (`?token=`). The rest (scheme, host, port, user, path)
 * is what an operator needs to see and stays.
 */
export function redactUrl(url: string): string {
  return url
    .replace(URL_PASSWORD, `$1${REDACTED}@`)
    .replace(QUERY_PARAM, (m, sep: string, name: string) =>
      isSecretKey(name) ? `${sep}${name}=${REDACTED}` : m,
    );
}

/** A value known to be secret: a URL keeps all but its password, anything else is replaced. */
function redactSecret(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return v;
  if (Array.isArray(v)) return v.map(redactSecret);
  if (typeof v === 'string' && IS_URL.test(v)) return redactUrl(v);
  return REDACTED;
}

/**
 * A copy of config with secret values replaced, for --print-config, /config and the components'
 * admin views. Secret are: the paths given (flags marked secret, a component's own), fields
 * named like secrets, and the password inside any URL. Nothing else is hidden: an operator
 * debugging a pod must see the hosts, modes and limits that are in effect.
 */
export function redact(value: unknown, secretPaths: ReadonlySet<string> = new Set(), prefix = ''): unknown {
  if (Array.isArray(value))
    return value.map((v, i) => redact(v, secretPaths, prefix ? `${prefix}.${i}` : String(i)));
  if (typeof value === 'string') return IS_URL.test(value) ? redactUrl(value) : value;
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const secret =
      secretPaths.has(path) || (isSecretKey(k) && (typeof v === 'string' || typeof v === 'number'));
    out[k] = secret ? redactSecret(v) : redact(v, secretPaths, path);
  }
  return out;
}
