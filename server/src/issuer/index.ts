/** Public surface of the issuer role's domain logic (the gRPC service lives elsewhere). */
export {
  CertificateAuthority,
  loadCertificateAuthorityFromFiles,
  type LoadCertificateAuthorityOptions,
} from './certificate-authority.js';
export {
  createDevCaPem,
  DEV_CA_COMMON_NAME,
  generateDevCa,
  type DevCaFiles,
  type DevCaOptions,
} from './dev-ca.js';
export { ConfigError, PolicyError } from './errors.js';
export { DEFAULT_ISSUANCE_LOG_SIZE, IssuanceLog, type IssuanceRecord } from './issuance-log.js';
export {
  checkRequest,
  DEFAULT_SIGNING_POLICY,
  type CheckedRequest,
  type PolicyRequest,
  type SigningPolicy,
} from './signing-policy.js';
export { CLOCK_SKEW_MS, randomSerial, signCsr, type SignedCertificate, type SignRequest } from './signer.js';
