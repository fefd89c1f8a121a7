/** Why a TLS handshake failed, as a small fixed set of metric label values. */
export type HandshakeFailure =
  | 'protocol_version'
  | 'no_shared_cipher'
  | 'not_tls'
  | 'client_cert_missing'
  | 'client_cert_invalid'
  | 'timeout'
  | 'reset'
  | 'other';

/** Maps the error of a server's 'tlsClientError' event to a HandshakeFailure. */
export function handshakeFailure(err: Error & { code?: string }): HandshakeFailure {
  const code = err.code ?? '';
  const msg = err.message;
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (
    code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' ||
    code === 'ERR_SSL_UNKNOWN_PROTOCOL' ||
    /unsupported protocol|tlsv1 alert protocol version/i.test(msg)
  )
    return 'protocol_version';
  if (code === 'ERR_SSL_NO_SHARED_CIPHER' || /no shared cipher/i.test(msg)) return 'no_shared_cipher';
  if (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_HTTP_REQUEST' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    /http request|wrong version number|packet length too long/i.test(msg)
  )
    return 'not_tls';
  if (/peer did not return a certificate|certificate required/i.test(msg)) return 'client_cert_missing';
  if (/certificate verify failed|unknown ca|bad certificate|certificate (expired|revoked)/i.test(msg))
    return 'client_cert_invalid';
  return 'other';
}
