import type { EndpointBinder } from './endpoint.js';
import type { HostTuning } from './host-tuning.js';
import type { PathRules } from './path-rules.js';
import type { VolumeStore } from './volume-store.js';

/**
 * Everything the node role needs from the operating system, as four narrow roles. Implemented by
 * `platform/linux` (`LinuxPlatform`, `DirectoryPlatform`), `platform/windows` (`WindowsPlatform`)
 * and the core's in-memory fake; `server/src/platform/select-platform.ts` is the one place that
 * picks one. A consumer that needs one role takes that role, not the whole port.
 */
export interface PlatformPort extends VolumeStore, PathRules, EndpointBinder, HostTuning {
  /** `linux`, `linux-directory`, `windows`, `fake`: shown in logs and the node API. */
  readonly name: string;
}
