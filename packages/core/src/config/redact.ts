import { isPlainObject } from './object-path.js';

const SECRET_KEY = /(password|passwd|secret|token|auth|credential|apikey)/i;

/** Whether a config key names a secret (its value is never printed). */
export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);

/** A copy of config with secret values replaced, for --print-config and /config. */
export function redact(value: unknown, secretPaths: ReadonlySet<string> = new Set(), prefix = ''): unknown {
  if (Array.isArray(value))
    return value.map((v, i) => redact(v, secretPaths, prefix ? `${prefix}.${i}` : String(i)));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const secret =
      secretPaths.has(path) || (SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number'));
    out[k] =
      secret && v !== undefined && v !== '' && v !== null ? '<redacted>' : redact(v, secretPaths, path);
  }
  return out;
}
