import { constants, randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsMaterial } from './tls-files.js';

/**
 * Mozilla's "intermediate" configuration (v5.7): TLS 1.3 suites, then only AEAD suites with
 * forward secrecy for TLS 1.2. The DHE suites of that list are left out: they need DH
 * parameters that nobody ships, and every client that would pick them also speaks ECDHE.
 */
export const INTERMEDIATE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export const INTERMEDIATE_CURVES = 'X25519:prime256v1:secp384r1';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** How contexts are built; the same policy applies to every certificate a server holds. */
export interface TlsPolicy {
  minVersion: TlsVersion;
  ciphers: string;
  ecdhCurve: string;
  /** issue session tickets (stateless resumption) */
  sessionTickets: boolean;
  /** ticket encryption keys (48 bytes); shared by all contexts so tickets survive reloads */
  ticketKeys?: Buffer | undefined;
  /** seconds a session (ticket) stays resumable */
  sessionTimeout: number;
}

export function defaultTlsPolicy(overrides: Partial<TlsPolicy> = {}): TlsPolicy {
  return {
    minVersion: 'TLSv1.2',
    ciphers: INTERMEDIATE_CIPHERS,
    ecdhCurve: INTERMEDIATE_CURVES,
    sessionTickets: true,
    ticketKeys: randomBytes(48),
    sessionTimeout: 300,
    ...overrides,
  };
}

/** The options createSecureContext (and tls.Server#setSecureContext) take for this material. */
export function secureContextOptions(material: TlsMaterial, policy: TlsPolicy): SecureContextOptions {
  return {
    cert: material.cert,
    key: material.key,
    ca: material.ca,
    minVersion: policy.minVersion,
    maxVersion: 'TLSv1.3',
    ciphers: policy.ciphers,
    ecdhCurve: policy.ecdhCurve,
    honorCipherOrder: true,
    sessionTimeout: policy.sessionTimeout,
    // Needed for resumption whenever client certificates are requested; harmless otherwise.
    sessionIdContext: 'dds',
    // Renegotiation is a DoS lever and TLS 1.3 has none; tickets off also turns off resumption.
    secureOptions:
      constants.SSL_OP_NO_RENEGOTIATION | (policy.sessionTickets ? 0 : constants.SSL_OP_NO_TICKET),
    ...(policy.sessionTickets && policy.ticketKeys ? { ticketKeys: policy.ticketKeys } : {}),
  };
}

/** Builds a SecureContext; throws (OpenSSL's message) when the policy or material is unusable. */
export function buildSecureContext(material: TlsMaterial, policy: TlsPolicy): SecureContext {
  return createSecureContext(secureContextOptions(material, policy));
}
