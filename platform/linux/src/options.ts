/** Options of the Linux adapter and the ownership policy of a volume's directories. */
import type { Mounter } from './mounter.js';
import type { HeapTrimmer } from './heap-trimmer.js';
import type { ThreadScheduler } from './thread-scheduler.js';
import type { TargetRulesOptions } from './target-rules.js';

/** The slice of a pino-style logger the adapter uses. Never handed file contents. */
export interface PlatformLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface LinuxPlatformOptions {
  /** `${CERT_BASE_PATH}/mounts`; each volume's tmpfs is mounted at `${dataRoot}/<volumeId>`. */
  dataRoot: string;
  logger?: PlatformLogger | undefined;
  /** Where publishes may mount (KUBELET_ROOT_DIR, CERT_BASE_PATH); see target-rules.ts. */
  targets?: TargetRulesOptions | undefined;
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
