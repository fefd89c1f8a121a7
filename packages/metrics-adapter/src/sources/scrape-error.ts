/** Why a scrape of a target failed; `reason` is a short label value for metrics. */
export type ScrapeFailure = 'unreachable' | 'timeout' | 'auth' | 'tls' | 'protocol' | 'too_large' | 'error';

export class ScrapeError extends Error {
  constructor(
    readonly reason: ScrapeFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ScrapeError';
  }
}

/** Maps socket and driver errors onto a ScrapeError with a readable message. */
export function toScrapeError(err: unknown, what: string): ScrapeError {
  if (err instanceof ScrapeError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  if (
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE'].includes(
      code,
    )
  )
    return new ScrapeError('unreachable', `${what}: ${code} ${e.message}`.trim(), { cause: err });
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED')
    return new ScrapeError('unreachable', `${what}: ${e.message}`, { cause: err });
  if (/CERT|^UNABLE_TO_|^ERR_TLS_|^ERR_SSL_/.test(code))
    return new ScrapeError('tls', `${what}: TLS: ${e.message}`, { cause: err });
  if (code === 'ETIMEDOUT' || /^UND_ERR_(CONNECT|HEADERS|BODY)_TIMEOUT$/.test(code))
    return new ScrapeError('timeout', `${what}: timed out`, { cause: err });
  return new ScrapeError('error', `${what}: ${e?.message ?? String(err)}`, { cause: err });
}
