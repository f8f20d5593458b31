/** Leaves nothing mounted: lazily unmounts whatever is still mounted under the benchmark's directory. */
import { ExecMounter, loadFfiMounter, readMountInfo } from '../../platform/linux/src/index.js';

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readMountInfo()
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/**
 * Lazy unmount (MNT_DETACH) of every mount under `dir`, repeated for stacked mounts; returns what
 * stays mounted. Through umount2(2) when koffi loads: the `umount` binary reads the whole mount table
 * per call, which takes over ten minutes for the 20,000 mounts of a 10,000-volume run.
 */
export async function sweepMounts(dir: string): Promise<string[]> {
  const mounter = loadFfiMounter() ?? new ExecMounter();
  for (let pass = 0; pass < 4; pass++) {
    const left = mountsUnder(dir);
    if (left.length === 0) return [];
    for (const mountPoint of left) await mounter.unmount(mountPoint, true).catch(() => undefined);
  }
  return mountsUnder(dir);
}
