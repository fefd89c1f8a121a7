import { readFileSync } from 'node:fs';
import { CheckFailure } from './probe.js';

export interface PasswordSource {
  password?: string | undefined;
  passwordFile?: string | undefined;
  passwordEnv?: string | undefined;
}

/**
 * The password of a check, read at every run so a rotated Kubernetes Secret is picked up without
 * a restart. A trailing newline (from `echo pass > file`) is not part of it.
 */
export function readPassword(src: PasswordSource): string | undefined {
  if (src.password !== undefined) return src.password;
  if (src.passwordFile) {
    try {
      return readFileSync(src.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CheckFailure('auth', `cannot read password file ${src.passwordFile}: ${code}`);
    }
  }
  if (src.passwordEnv) return process.env[src.passwordEnv] || undefined;
  return undefined;
}
