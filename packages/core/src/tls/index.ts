export {
  type CertificateInfo,
  certificateInfo,
  dnField,
  parseCertificate,
  parseSubjectAltName,
  rfc4514,
  splitPem,
} from './certificate-info.js';
export { type KeyPair, validateKeyPair } from './key-pair.js';
export { type ReloadableContextOptions, ReloadableTlsContext } from './reloadable-context.js';
export {
  buildSecureContext,
  defaultTlsPolicy,
  INTERMEDIATE_CIPHERS,
  INTERMEDIATE_CURVES,
  secureContextOptions,
  type TlsPolicy,
  type TlsVersion,
} from './secure-context.js';
export { loadTlsFiles, readTlsFile, type TlsFilePaths, type TlsMaterial, tlsDirPaths } from './tls-files.js';
