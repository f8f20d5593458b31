/**
 * The two mounts of a volume: its tmpfs at `${dataRoot}/<volumeId>` (where the atomic writer
 * writes) and a read-only bind of it at kubelet's target path (what the pod sees). Decisions are
 * taken from /proc/self/mountinfo, so they hold across driver restarts, except on the two hot paths
 * that can do without it (reading the table costs time in proportion to every mount on the node):
 * creating a fresh volume, where creating both directories proves nothing is mounted on them, and
 * removing a volume whose tmpfs device this process knows, where stat(2) tells our mounts apart.
 * Directory calls are synchronous like the mounts themselves: a few microseconds each on cached
 * entries, less than a thread-pool round trip (ADR 14).
 */
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import { isErrno, messageOf, wrapInternal } from './errors.js';
import { TMPFS_SOURCE } from './mounter.js';
import type { Mounter, TmpfsOptions } from './mounter.js';
import { findMount, readMountInfo, sameFilesystem } from './mountinfo.js';
import type { MountInfo } from './mountinfo.js';
import type { PlatformLogger } from './options.js';

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

/**
 * True when `target` is a bind of the volume's own tmpfs `data`, read-only or not. The bind is made
 * read-only, but that remount lives in the mount namespace that made it: a driver restarted in a new
 * container (a DaemonSet rollout) sees the host's copy of every bind read-write. The pod's view is
 * read-only either way (kubelet mounts a CSI volume into the container read-only), so the flag is no
 * test of whether the volume is ours and published (ADR 3).
 */
export function isBindOf(target: MountInfo | undefined, data: MountInfo | undefined): boolean {
  return target !== undefined && data !== undefined && sameFilesystem(target, data);
}

/**
 * Mounts the tmpfs (unless already there) and binds it read-only at the target path (unless already
 * there). Throws `failed-precondition` when either path holds a mount that is not this volume's; on
 * any other failure it unmounts what it mounted and removes the directories it created.
 *
 * A fresh volume never reads the mount table: a mount point is an existing directory, so when this
 * call creates both the data dir and the target dir, nothing can be mounted on either. Only when one
 * of them already existed (a retry, a republish, a leftover) does the table decide.
 */
export async function mountVolume(ctx: MountContext, paths: VolumePaths, tmpfs: TmpfsOptions): Promise<void> {
  const undo: { what: string; step: () => Promise<void> }[] = [];
  try {
    const dataCreated = mkdirIfMissing(paths.dataDir, 0o700);
    if (dataCreated) undo.push({ what: 'rmdir data dir', step: async () => rmdirSync(paths.dataDir) });
    const targetCreated = mkdirIfMissing(paths.targetPath, 0o750);
    if (targetCreated) undo.push({ what: 'rmdir target', step: async () => rmdirSync(paths.targetPath) });
    let mounts: VolumeMounts = { data: undefined, target: undefined };
    if (!dataCreated || !targetCreated) {
      mounts = inspectMounts(paths);
      const { data, target } = mounts;
      if (data !== undefined && !isOurs(data)) throw foreignMount(paths, paths.dataDir, data);
      if (target !== undefined && (data === undefined || !sameFilesystem(target, data))) {
        throw foreignMount(paths, paths.targetPath, target);
      }
      if (isBindOf(target, data)) return;
    }
    if (mounts.data === undefined) {
      await ctx.mounter.mountTmpfs(paths.dataDir, tmpfs);
      undo.push({ what: 'unmount tmpfs', step: () => unmountAll(ctx, paths, paths.dataDir) });
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
 * `unmountVolume` for a volume whose tmpfs this process mounted or verified, `tmpfsDev` being that
 * tmpfs's st_dev, without reading the mount table: a path whose st_dev is `tmpfsDev` has the tmpfs
 * or a bind of it on top (a bind shares its filesystem's device), and one whose st_dev is its
 * parent's has nothing of another filesystem on top. Anything else (another filesystem on top, a
 * directory that cannot be removed because something is still mounted there, a stat that fails)
 * hands over to `unmountVolume`, which decides from the table and refuses foreign mounts.
 */
export async function unmountKnownVolume(
  ctx: MountContext,
  paths: VolumePaths,
  tmpfsDev: number,
): Promise<void> {
  for (const dir of [paths.targetPath, paths.dataDir]) {
    if (!(await unmountStackOf(ctx, paths, dir, tmpfsDev))) return unmountVolume(ctx, paths);
    try {
      await removeEmptyDir(ctx, paths, dir);
    } catch (err) {
      if (err instanceof PlatformError && isErrno(err.cause, 'EBUSY')) return unmountVolume(ctx, paths);
      throw err;
    }
  }
}

/**
 * Unmounts every mount at `mountPoint` whose device is `dev`; true once nothing of another
 * filesystem is left on top of it (or it does not exist), false when the answer needs the table.
 */
async function unmountStackOf(
  ctx: MountContext,
  paths: VolumePaths,
  mountPoint: string,
  dev: number,
): Promise<boolean> {
  for (let i = 0; i < 16; i++) {
    let st;
    try {
      st = statSync(mountPoint, { throwIfNoEntry: false });
      if (st === undefined) return true;
      if (st.dev !== dev) return st.dev === statSync(path.dirname(mountPoint)).dev;
    } catch {
      return false;
    }
    await unmountOrDetach(ctx, paths, mountPoint);
  }
  return false;
}

/**
 * Removes `dir` when it is an empty directory. Never recursive: once unmounted, anything left
 * inside lives on the host's disk and is not ours, so it is logged and kept.
 */
async function removeEmptyDir(ctx: MountContext, paths: VolumePaths, dir: string): Promise<void> {
  try {
    rmdirSync(dir);
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
    await unmountOrDetach(ctx, paths, mountPoint);
  }
  throw new PlatformError(
    'internal',
    `volume ${paths.volumeId}: ${mountPoint} stays mounted after 16 unmounts`,
  );
}

/** Unmounts the topmost mount at `mountPoint`, detaching it lazily when it is busy. */
async function unmountOrDetach(ctx: MountContext, paths: VolumePaths, mountPoint: string): Promise<void> {
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

/** Creates `dir` (not its parents) with `mode`; false when it already existed. */
function mkdirIfMissing(dir: string, mode: number): boolean {
  try {
    mkdirSync(dir, { mode });
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
