/** Leaves nothing mounted: lazily unmounts whatever is still mounted under the benchmark's directory. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readMountInfo } from '../../platform/linux/src/index.js';

const execFileAsync = promisify(execFile);

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readMountInfo()
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** `umount --lazy` of every mount under `dir` (repeated for stacked mounts); returns what stays mounted. */
export async function sweepMounts(dir: string): Promise<string[]> {
  for (let pass = 0; pass < 4; pass++) {
    const left = mountsUnder(dir);
    if (left.length === 0) return [];
    for (const mountPoint of left) {
      await execFileAsync('umount', ['--lazy', mountPoint]).catch(() => undefined);
    }
  }
  return mountsUnder(dir);
}
