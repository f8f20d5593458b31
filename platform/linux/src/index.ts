/**
 * The Linux platform adapter of csi-cert-driver: per-volume tmpfs, read-only bind mounts, atomic
 * file swaps and the unix-socket CSI endpoint. Imports nothing from the server but the platform
 * contract (`@csi-cert-driver/platform-contract`), which it implements.
 */
export { LinuxPlatform } from './linux-platform.js';
export type { LinuxPlatformOptions, PlatformLogger } from './options.js';
export { ExecMounter, MountError, TMPFS_SOURCE } from './mounter.js';
export type { Mounter, TmpfsOptions } from './mounter.js';
export { loadFfiMounter } from './ffi-mounter.js';
export { loadThreadScheduler } from './thread-scheduler.js';
export type { ThreadScheduler } from './thread-scheduler.js';
export { loadHeapTrimmer } from './heap-trimmer.js';
export type { HeapTrimmer } from './heap-trimmer.js';
export {
  findMount,
  parseMountInfo,
  parseMountInfoLine,
  readMountInfo,
  sameFilesystem,
  superOption,
  unescapeMountField,
} from './mountinfo.js';
export type { MountInfo } from './mountinfo.js';
export { checkFileName, checkTargetPath, checkVolumeId, parseUnixEndpoint } from './paths.js';
export { checkPublishTarget } from './target-rules.js';
export type { TargetRulesOptions } from './target-rules.js';
export { DATA_LINK } from './atomic-writer.js';
export { DirectoryPlatform } from './directory-platform.js';
