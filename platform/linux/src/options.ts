/** Options of the Linux adapter and the ownership policy of a volume's directories. */
import type { Mounter } from './mounter.js';
import type { HeapTrimmer } from './heap-trimmer.js';
import type { ThreadScheduler } from './thread-scheduler.js';

/** The slice of a pino-style logger the adapter uses. Never handed file contents. */
export interface PlatformLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface LinuxPlatformOptions {
  /** `${CERT_BASE_PATH}/mounts`; each volume's tmpfs is mounted at `${dataRoot}/<volumeId>`. */
  dataRoot: string;
  logger?: PlatformLogger | undefined;
  /** How mounts are made; defaults to `ExecMounter` (util-linux `mount`/`umount`). */
  mounter?: Mounter | undefined;
  /** SCHED_IDLE for background threads (`loadThreadScheduler`); without it none are offered. */
  threadScheduler?: ThreadScheduler | undefined;
  /** malloc_trim(0) (`loadHeapTrimmer`); without it the port offers no `releaseFreeMemory`. */
  heapTrimmer?: HeapTrimmer | undefined;
}

/** Permission bits of the directories of a volume: group may list and traverse only with an fsGroup. */
export function dirModeFor(fsGroup: number | undefined): number {
  return fsGroup === undefined ? 0o700 : 0o750;
}

/** The group that owns a volume's directories and files: the fsGroup, else root's group. */
export function gidFor(fsGroup: number | undefined): number {
  return fsGroup ?? 0;
}
