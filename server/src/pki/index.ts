/** Public surface of the PKI module: keys, CSRs, usages, PEM helpers, certificate building and descriptions. */
export {
  curveOfSize,
  decodePrivateKey,
  describeKeyShape,
  encodePrivateKey,
  generateKey,
  keySpecOf,
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  type KeyPair,
  type KeyShape,
} from './keys.js';
export { buildCsr, parseCsr, specGeneralNames, type ParsedCsr, type RequestedExtension } from './csr.js';
export {
  DEFAULT_USAGES,
  EXTENDED_KEY_USAGE_OIDS,
  KEY_USAGE_FLAGS,
  KeyUsageFlags,
  KNOWN_USAGES,
  resolveUsages,
  usageExtensions,
  usageNamesOf,
  type ResolvedUsages,
} from './usages.js';
export {
  certificateMatchesKey,
  describeCertificate,
  parseCertificate,
  type CertificateInfo,
} from './certificate-info.js';
export {
  certificatePems,
  firstPemBlock,
  joinPem,
  splitCertificates,
  splitPem,
  toPem,
  type PemBlock,
} from './pem.js';
export {
  buildCertificate,
  certificateParts,
  truncateToSeconds,
  type CertificateParts,
  type CertificateTemplate,
} from './certificate-builder.js';
export * from './extensions.js';
export { decodeGeneralNames, ipFromBytes, ipToBytes, subjectNameDer, type GeneralName } from './names.js';
export {
  signatureSchemeOf,
  signatureSchemeOfOid,
  signWith,
  verifyWith,
  type SignatureScheme,
} from './signing-keys.js';
