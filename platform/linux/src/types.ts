/**
 * Input and option types of the Linux platform adapter. The adapter imports nothing from the server:
 * these mirror `server/src/platform/platform.port.ts` field for field, so `LinuxPlatform` satisfies
 * `PlatformPort` structurally and the server binds it without a cast.
 */
import type { Mounter } from './mounter.js';
import type { HeapTrimmer } from './heap-trimmer.js';
import type { ThreadScheduler } from './thread-scheduler.js';

/** One file of a volume. `name` is a bare file name (see `checkFileName`). */
export interface VolumeFile {
  name: string;
  data: Uint8Array;
  /** Permission bits, e.g. 0o440. Only the lowest 12 bits (0o7777) are applied. */
  mode: number;
}

export interface CreateVolumeRequest {
  volumeId: string;
  /** Absolute path kubelet asked us to publish to; its parent exists, the path itself may not. */
  targetPath: string;
  /** Upper bound of the volume's tmpfs in bytes; the kernel rounds it up to whole pages. */
  sizeBytes: number;
  /** Group that owns the files and may read them; undefined = root only. */
  fsGroup?: number | undefined;
}

export interface VolumeLocation {
  volumeId: string;
  targetPath: string;
}

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
