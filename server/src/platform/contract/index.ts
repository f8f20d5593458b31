/**
 * The platform contract: the port the node role's core uses and the platform adapters implement,
 * the one `PlatformError`, and the limits both sides agree on. Depends on nothing (ADR 17).
 */
export type { CreateVolumeRequest, VolumeFile, VolumeLocation, VolumeStore } from './volume-store.js';
export type { PathRules } from './path-rules.js';
export type { EndpointBinder } from './endpoint.js';
export type { HostTuning } from './host-tuning.js';
export type { PlatformPort } from './platform-port.js';
export { PLATFORM_ERROR_KINDS, PlatformError, type PlatformErrorKind } from './errors.js';
export { isGroupId, MAX_GROUP_ID } from './limits.js';
