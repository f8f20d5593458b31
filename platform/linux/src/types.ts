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

/**
 * Permission bits of the directories of a volume (the tmpfs root, the timestamped set behind
 * `..data`): 0755, so every user of the pod, with or without an fsGroup, can list the volume and
 * reach tls.crt and ca.crt (0444). Who reads the key is decided by the key file's own mode (0400
 * root, or 0440 root:fsGroup). On the host the volume stays closed: its tmpfs is mounted below
 * CERT_BASE_PATH's 0700 `mounts/`, and the target below kubelet's pod directory.
 */
export const VOLUME_DIR_MODE = 0o755;

/** The group that owns a volume's directories and files: the fsGroup, else root's group. */
export function gidFor(fsGroup: number | undefined): number {
  return fsGroup ?? 0;
}
