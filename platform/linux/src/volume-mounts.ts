/**
 * The two mounts of a volume: its tmpfs at `${dataRoot}/<volumeId>` (where the atomic writer
 * writes) and a read-only bind of it at kubelet's target path (what the pod sees). Decisions are
 * taken from /proc/self/mountinfo, so they hold across driver restarts.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { PlatformError, isErrno, messageOf, wrapInternal } from './errors.js';
import { TMPFS_SOURCE } from './mounter.js';
import type { Mounter, TmpfsOptions } from './mounter.js';
import { findMount, readMountInfo, sameFilesystem } from './mountinfo.js';
import type { MountInfo } from './mountinfo.js';
import type { PlatformLogger } from './types.js';

/** Canonical paths of one volume, as they appear in the mount table. */
export interface VolumePaths {
  volumeId: string;
  dataDir: string;
  targetPath: string;
}

export interface MountContext {
  mounter: Mounter;
  logger?: PlatformLogger | undefined;
}

export interface VolumeMounts {
  data: MountInfo | undefined;
  target: MountInfo | undefined;
}

/** True for a tmpfs this adapter mounted, or a bind mount of one. */
export const isOurs = (m: MountInfo): boolean => m.fsType === 'tmpfs' && m.source === TMPFS_SOURCE;

/** The topmost mounts at the volume's data dir and target path. */
export function inspectMounts(paths: VolumePaths): VolumeMounts {
  const mounts = readMountInfo();
  return { data: findMount(mounts, paths.dataDir), target: findMount(mounts, paths.targetPath) };
}

/** True when `target` is a read-only bind of the volume's own tmpfs `data`. */
export function isReadOnlyBindOf(target: MountInfo | undefined, data: MountInfo | undefined): boolean {
  return (
    target !== undefined &&
    data !== undefined &&
    sameFilesystem(target, data) &&
    target.mountOptions.includes('ro')
  );
}

/**
 * Mounts the tmpfs (unless already there) and binds it read-only at the target path (unless already
 * there). Throws `failed-precondition` when either path holds a mount that is not this volume's; on
 * any other failure it unmounts what it mounted and removes the directories it created.
 */
export async function mountVolume(ctx: MountContext, paths: VolumePaths, tmpfs: TmpfsOptions): Promise<void> {
  const { data, target } = inspectMounts(paths);
  if (data !== undefined && !isOurs(data)) throw foreignMount(paths, paths.dataDir, data);
  if (target !== undefined && (data === undefined || !sameFilesystem(target, data))) {
    throw foreignMount(paths, paths.targetPath, target);
  }
  if (isReadOnlyBindOf(target, data)) return;

  const undo: { what: string; step: () => Promise<void> }[] = [];
  try {
    if (data === undefined) {
      if (await mkdirIfMissing(paths.dataDir, 0o700)) {
        undo.push({ what: 'rmdir data dir', step: () => rmdir(paths.dataDir) });
      }
      await ctx.mounter.mountTmpfs(paths.dataDir, tmpfs);
      undo.push({ what: 'unmount tmpfs', step: () => unmountAll(ctx, paths, paths.dataDir) });
    }
    if (target !== undefined) await unmountAll(ctx, paths, paths.targetPath); // a writable leftover bind
    if (await mkdirIfMissing(paths.targetPath, 0o750)) {
      undo.push({ what: 'rmdir target', step: () => rmdir(paths.targetPath) });
    }
    undo.push({ what: 'unmount bind', step: () => unmountAll(ctx, paths, paths.targetPath) });
    await ctx.mounter.bindReadOnly(paths.dataDir, paths.targetPath);
  } catch (err) {
    for (const { what, step } of undo.reverse()) {
      await step().catch((e: unknown) =>
        ctx.logger?.warn({ volumeId: paths.volumeId, err: messageOf(e) }, `rollback: ${what} failed`),
      );
    }
    throw wrapInternal(err, `volume ${paths.volumeId}: publishing at ${paths.targetPath}`);
  }
}

/**
 * Unmounts the bind at the target path and removes that directory, then unmounts the tmpfs and
 * removes the data dir. Missing pieces are skipped; a busy mount is detached lazily. Throws
 * `failed-precondition` rather than unmount a mount this adapter did not make.
 */
export async function unmountVolume(ctx: MountContext, paths: VolumePaths): Promise<void> {
  await unmountAll(ctx, paths, paths.targetPath);
  await removeEmptyDir(ctx, paths, paths.targetPath);
  await unmountAll(ctx, paths, paths.dataDir);
  await removeEmptyDir(ctx, paths, paths.dataDir);
}

/**
 * Removes `dir` when it is an empty directory. Never recursive: once unmounted, anything left
 * inside lives on the host's disk and is not ours, so it is logged and kept.
 */
async function removeEmptyDir(ctx: MountContext, paths: VolumePaths, dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    if (!isErrno(err, 'ENOTEMPTY', 'EEXIST', 'ENOTDIR')) {
      throw wrapInternal(err, `volume ${paths.volumeId}: removing ${dir}`);
    }
    ctx.logger?.warn({ volumeId: paths.volumeId, path: dir }, 'left in place: not an empty directory');
  }
}

/** Unmounts every mount stacked at `mountPoint` (ours only), falling back to a lazy unmount when busy. */
async function unmountAll(ctx: MountContext, paths: VolumePaths, mountPoint: string): Promise<void> {
  for (let i = 0; i < 16; i++) {
    const mount = findMount(readMountInfo(), mountPoint);
    if (mount === undefined) return;
    if (!isOurs(mount)) throw foreignMount(paths, mountPoint, mount);
    try {
      await ctx.mounter.unmount(mountPoint, false);
    } catch (err) {
      ctx.logger?.warn(
        { volumeId: paths.volumeId, path: mountPoint, err: messageOf(err) },
        'unmount failed; detaching lazily',
      );
      await ctx.mounter.unmount(mountPoint, true).catch((lazyErr: unknown) => {
        throw wrapInternal(lazyErr, `volume ${paths.volumeId}: unmounting ${mountPoint}`);
      });
    }
  }
  throw new PlatformError(
    'internal',
    `volume ${paths.volumeId}: ${mountPoint} stays mounted after 16 unmounts`,
  );
}

/** Creates `dir` (not its parents) with `mode`; false when it already existed. */
async function mkdirIfMissing(dir: string, mode: number): Promise<boolean> {
  try {
    await mkdir(dir, { mode });
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
}

function foreignMount(paths: VolumePaths, mountPoint: string, m: MountInfo): PlatformError {
  return new PlatformError(
    'failed-precondition',
    `volume ${paths.volumeId}: ${mountPoint} is already a mount point of something else ` +
      `(${m.fsType} from ${m.source}, device ${m.major}:${m.minor})`,
  );
}
