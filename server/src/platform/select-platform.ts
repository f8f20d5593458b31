import {
  DirectoryPlatform,
  ExecMounter,
  LinuxPlatform,
  loadFfiMounter,
  loadHeapTrimmer,
  loadThreadScheduler,
} from '@csi-cert-driver/platform-linux';
import { WindowsPlatform } from '@csi-cert-driver/platform-windows';
import type { Logger } from '../common/logger.js';
import type { PlatformPort } from '@csi-cert-driver/platform-contract';

export interface PlatformChoice {
  os: NodeJS.Platform;
  /** Where per-volume storage lives (`${CERT_BASE_PATH}/mounts`). */
  dataRoot: string;
  /** KUBELET_ROOT_DIR and CERT_BASE_PATH: where publishes may and may not mount (`PathRules.checkPublishTarget`). */
  targets: { kubeletRoot: string; reserved: string[] };
  logger: Logger;
  /** False only for the demo run by a non-root user: plain directories instead of tmpfs mounts. */
  privileged?: boolean;
}

/**
 * The one place that picks the platform adapter, from `process.platform`. Everything above the
 * port is the same code on every platform. On Linux, mount(2) is called directly through koffi
 * when it loads (about 0.04 ms per publish) and through the `mount` binary otherwise (about 9 ms);
 * see docs/adr/0003-mounting.md. Also through koffi: SCHED_IDLE for the key pool's refill thread
 * (ADR 14), without which the pool keeps its nice-19 refills; and malloc_trim after busy periods
 * (ADR 15), without which freed native memory stays resident.
 */
export function selectPlatform(c: PlatformChoice): PlatformPort {
  switch (c.os) {
    case 'linux':
      if (c.privileged === false)
        return new DirectoryPlatform({ dataRoot: c.dataRoot, logger: c.logger, targets: c.targets });
      return new LinuxPlatform({
        dataRoot: c.dataRoot,
        logger: c.logger,
        targets: c.targets,
        mounter: loadFfiMounter() ?? new ExecMounter(),
        threadScheduler: loadThreadScheduler(),
        heapTrimmer: loadHeapTrimmer(),
      });
    case 'win32':
      return new WindowsPlatform({ dataRoot: c.dataRoot, logger: c.logger, targets: c.targets });
    default:
      throw new Error(`csi-cert-driver's node role runs on linux and win32, not ${c.os}`);
  }
}
