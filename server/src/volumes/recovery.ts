import type { Logger } from '../common/logger.js';
import type { VolumeStore } from '@csi-cert-driver/platform-contract';
import type { StateStore } from './state-store.port.js';
import type { VolumeState } from './volume-state.js';
import { errorSummary } from './volume-manager.js';

export interface RecoveryResult {
  recovered: VolumeState[];
  rolledBack: string[];
  corrupt: string[];
}

/**
 * Rebuilds the node's picture after a start: published volumes whose mount is intact are kept
 * (and handed back for renewal scheduling); half-published ones and ones whose mount vanished are
 * cleaned up so kubelet's next publish starts fresh; unreadable state files are set aside. Never
 * throws for one bad volume.
 */
export async function recoverVolumes(
  store: StateStore,
  platform: VolumeStore,
  logger: Logger,
): Promise<RecoveryResult> {
  const leftovers = await store.removeLeftovers();
  if (leftovers.length > 0)
    logger.info({ files: leftovers.length }, 'removed temporary state files left by an interrupted write');
  const { states, corrupt } = await store.list();
  for (const c of corrupt)
    logger.error({ file: c.file, reason: c.reason }, 'unreadable volume state set aside');
  const result: RecoveryResult = { recovered: [], rolledBack: [], corrupt: corrupt.map((c) => c.file) };
  for (const s of states) {
    const loc = { volumeId: s.volumeId, targetPath: s.targetPath };
    try {
      if (s.phase === 'published' && (await platform.isPublished(loc))) {
        result.recovered.push(s);
        continue;
      }
      logger.warn(
        { volumeId: s.volumeId, phase: s.phase },
        'volume incomplete after restart; cleaning up for kubelet to republish',
      );
      await platform.removeVolume(loc);
      await store.delete(s.volumeId);
      result.rolledBack.push(s.volumeId);
    } catch (e) {
      logger.error(
        { volumeId: s.volumeId, err: errorSummary(e) },
        'could not recover volume; leaving it for the next start',
      );
    }
  }
  return result;
}
