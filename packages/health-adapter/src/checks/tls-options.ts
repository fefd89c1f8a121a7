import { readFileSync } from 'node:fs';
import { CheckFailure } from './probe.js';

export interface TlsSettings {
  tls: boolean;
  tlsCa?: string | undefined;
  tlsInsecure?: boolean | undefined;
}

/** Node TLS options for a run, or undefined without TLS; the CA file is read now so a rotated one is used. */
export function tlsOptions(s: TlsSettings): { ca?: string; rejectUnauthorized: boolean } | undefined {
  if (!s.tls) return undefined;
  return { ...(s.tlsCa ? { ca: readCa(s.tlsCa) } : {}), rejectUnauthorized: !s.tlsInsecure };
}

export function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CheckFailure(
      'tls',
      `cannot read CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}
