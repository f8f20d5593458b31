/** Public API of the volume-attribute schema: parsing, defaults, validation and the attribute table. */
export type {
  CertificateSpec,
  IssuerRef,
  KeyAlgorithm,
  KeyEncoding,
  KeySpec,
  PodInfo,
  SubjectSpec,
  VolumeFileNames,
} from './certificate-spec.js';
export {
  ATTRIBUTES,
  ATTRIBUTE_NAMES,
  ATTRIBUTE_PREFIX,
  ATTRIBUTE_PREFIXES,
  CERT_MANAGER_PREFIX,
  type AttributeDoc,
  type AttributeName,
} from './attribute-table.js';
export {
  DEFAULT_DURATION_SECONDS,
  DEFAULT_ISSUER_GROUP,
  DEFAULT_ISSUER_KIND,
  MAX_DURATION_SECONDS,
  MIN_DURATION_SECONDS,
  parseVolumeAttributes,
  type ParseVolumeAttributesInput,
} from './parse-attributes.js';
export { KUBELET_KEYS, KUBELET_PREFIX, KubeletKey, isEphemeral, parsePodInfo } from './pod-info.js';
export { VOLUME_MOUNT_GROUP_FIELD, type FileNameCheck } from './files.js';
export { EXPANSION_VARIABLES, type ExpansionVariable } from './expand.js';
export { KEY_USAGES, type KeyUsage } from './key-usages.js';
export { formatDuration, parseGoDuration } from './duration.js';
export { SPIFFE_ALLOWED_ATTRIBUTES, SPIFFE_USAGES, spiffeIdOf, type SpiffeMode } from './spiffe-mode.js';
