/** Socket error codes that mean the peer cannot be reached (refused, reset, no route, no name). */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** OpenSSL verification codes and Node's TLS error codes. */
export const isTlsErrorCode = (code: string): boolean =>
  /CERT|SELF_SIGNED|UNABLE_TO_|^ERR_SSL|^ERR_TLS|HANDSHAKE/.test(code);
