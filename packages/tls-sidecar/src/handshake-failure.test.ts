import { describe, expect, it } from 'vitest';
import { handshakeFailure } from './handshake-failure.js';

const err = (message: string, code?: string) => Object.assign(new Error(message), { code });

describe('handshakeFailure', () => {
  it('maps OpenSSL errors Node reports on tlsClientError', () => {
    expect(handshakeFailure(err('unsupported protocol', 'ERR_SSL_UNSUPPORTED_PROTOCOL'))).toBe(
      'protocol_version',
    );
    expect(handshakeFailure(err('no shared cipher', 'ERR_SSL_NO_SHARED_CIPHER'))).toBe('no_shared_cipher');
    expect(handshakeFailure(err('http request', 'ERR_SSL_HTTP_REQUEST'))).toBe('not_tls');
    expect(handshakeFailure(err('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('not_tls');
    expect(handshakeFailure(err('TLS handshake timeout', 'ERR_TLS_HANDSHAKE_TIMEOUT'))).toBe('timeout');
    expect(handshakeFailure(err('socket hang up', 'ECONNRESET'))).toBe('reset');
    expect(handshakeFailure(err('something new'))).toBe('other');
  });
});
