import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { DdsError } from '../errors.js';
import { type CertificateInfo, certificateInfo, parseCertificate, splitPem } from './certificate-info.js';
import type { TlsMaterial } from './tls-files.js';

/** A certificate chain and its key, checked to belong together. */
export interface KeyPair {
  material: TlsMaterial;
  leaf: X509Certificate;
  info: CertificateInfo;
  /** how many certificates the chain file holds (leaf + intermediates) */
  chainLength: number;
}

/**
 * Parses the certificate and key and checks that the key is the certificate's, so a
 * half-rotated Secret (new cert, old key) is refused instead of failing every handshake.
 */
export function validateKeyPair(material: TlsMaterial): KeyPair {
  const { paths } = material;
  const leaf = parseCertificate(material.cert, `certificate file ${paths.cert}`);
  let key: KeyObject;
  try {
    key = createPrivateKey(material.key);
  } catch (err) {
    throw new DdsError(
      'DDS_TLS_FILE',
      `private key file ${paths.key} is not a valid unencrypted PEM key: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new DdsError(
      'DDS_TLS_MISMATCH',
      `private key file ${paths.key} does not match the certificate in ${paths.cert}`,
    );
  }
  if (material.ca && paths.ca) parseCertificate(material.ca, `CA file ${paths.ca}`);
  return { material, leaf, info: certificateInfo(leaf), chainLength: splitPem(material.cert).length };
}
