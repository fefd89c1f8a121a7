import { isTlsErrorCode, UNREACHABLE_CODES } from '@dds/core/net/socket-errors';

/**
 * One kind of health check. run() resolves with a short description of what it saw (shown by
 * ?verbose) or throws a CheckFailure. It must give up and release its sockets or child process
 * when the signal aborts (the run's timeout); the scheduler stops waiting at that moment anyway.
 */
export interface Probe {
  /** IETF health-check componentType: datastore, component or system */
  readonly componentType: 'datastore' | 'component' | 'system';
  run(signal: AbortSignal): Promise<string>;
  /** releases long-lived resources (a gRPC channel) when the check is removed */
  close?(): void;
}

/** Why a run failed; a fixed set so it can be a metric label. */
export const FAILURE_REASONS = [
  'timeout',
  'connect',
  'tls',
  'auth',
  'protocol',
  'unhealthy',
  'error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export class CheckFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** Turns whatever a client library threw into a CheckFailure with a readable message. */
export function toFailure(err: unknown, signal?: AbortSignal): CheckFailure {
  if (err instanceof CheckFailure) return err;
  if (signal?.aborted) return new CheckFailure('timeout', 'timed out');
  const e = err as NodeJS.ErrnoException & { errno?: number | string };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = e?.message || String(err);
  if (UNREACHABLE_CODES.has(code) || code === 'ETIMEDOUT') return new CheckFailure('connect', message);
  if (isTlsErrorCode(code) || /certificate|does not support (SSL|secure)/i.test(message))
    return new CheckFailure('tls', message);
  return new CheckFailure('error', message);
}

/** Rejects once the signal aborts; for races against client libraries without signal support. */
export function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new CheckFailure('timeout', 'timed out'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
