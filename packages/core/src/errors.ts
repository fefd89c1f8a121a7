import { isSecretKey } from './config/redact.js';

/**
 * The one error catalogue of dds. Every error a user can see carries a stable code, so logs,
 * metrics and tests match on the code rather than on wording.
 */
export type ErrorCode =
  | 'DDS_CONFIG_INVALID'
  | 'DDS_CONFIG_FILE'
  | 'DDS_FLAG_UNKNOWN'
  | 'DDS_FLAG_VALUE'
  | 'DDS_TLS_FILE'
  | 'DDS_TLS_MISMATCH'
  | 'DDS_LISTEN'
  | 'DDS_UPSTREAM';

export class DdsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'DdsError';
  }
}

/** A listener that cannot bind (address in use, not allowed, not on this host). */
export class ListenError extends DdsError {
  /** the address as given to listen, `host:port` or `unix:/path` */
  readonly address: string;
  /** the system error code, e.g. EADDRINUSE */
  readonly reason: string;
  constructor(address: string, reason: string, options?: { cause?: unknown }) {
    super('DDS_LISTEN', `cannot listen on ${address}: ${reason}${LISTEN_HINTS[reason] ?? ''}`, options);
    this.address = address;
    this.reason = reason;
    this.name = 'ListenError';
  }
}

const LISTEN_HINTS: Record<string, string> = {
  EADDRINUSE: ' (another process, or another listener of this process, holds that address)',
  EACCES: ' (ports below 1024 need root or CAP_NET_BIND_SERVICE; a unix socket needs a writable directory)',
  EADDRNOTAVAIL: ' (no network interface of this host has that address)',
};

/** One problem found in a configuration: where it is, what was expected, what was found. */
export interface ConfigIssue {
  /** dotted path of the field, e.g. `pools.alpha.hash` */
  path: string;
  message: string;
  /** where the offending value came from: `file x.yaml`, `env DDS_LISTEN`, `flag --listen`, `default` */
  source?: string;
  received?: unknown;
}

/** Invalid configuration. At start-up this exits with code 2; on reload it is logged and counted. */
export class ConfigError extends DdsError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], code: ErrorCode = 'DDS_CONFIG_INVALID') {
    super(code, formatIssues(issues));
    this.issues = issues;
    this.name = 'ConfigError';
  }
}

export function formatIssues(issues: ConfigIssue[]): string {
  return issues
    .map((i) => {
      const where = i.path === '' ? '(root)' : i.path;
      const secret = isSecretKey(i.path.slice(i.path.lastIndexOf('.') + 1));
      const got = i.received === undefined ? '' : ` (got ${secret ? '<redacted>' : preview(i.received)})`;
      const from = i.source ? ` [from ${i.source}]` : '';
      return `${where}: ${i.message}${got}${from}`;
    })
    .join('\n');
}

/** user:password@ in URLs is masked, so a rejected URL never prints its password. */
const URL_CREDENTIALS = /(\/\/[^/@\s:]*:)[^/@\s]+@/g;

function preview(v: unknown): string {
  const s = (JSON.stringify(v) ?? String(v)).replace(URL_CREDENTIALS, '$1<redacted>@');
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Exit codes shared by every component. */
export const EXIT = Object.freeze({ OK: 0, FAILURE: 1, CONFIG: 2, SECOND_SIGNAL: 130 });
