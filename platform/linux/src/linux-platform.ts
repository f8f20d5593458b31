/**
 * The Linux platform adapter: a size-limited tmpfs per volume under the data root, exposed
 * read-only at kubelet's target path, with kubelet-style atomic file swaps inside it. Implements the
 * platform contract's `PlatformPort` (it imports nothing else from the server).
 */
import { chmodSync, statSync, statfsSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DATA_LINK, readCurrentFile, writeFileSet } from './atomic-writer.js';
import { prepareUnixEndpoint } from './endpoint.js';
import { isGroupId, PlatformError } from '@csi-cert-driver/platform-contract';
import type { CreateVolumeRequest, VolumeFile, VolumeLocation } from '@csi-cert-driver/platform-contract';
import type { PlatformPort } from '@csi-cert-driver/platform-contract';
import { wrapInternal } from './errors.js';
import { ExecMounter } from './mounter.js';
import type { Mounter } from './mounter.js';
import { canonicalPath, checkFileName, checkTargetPath, checkVolumeId } from './paths.js';
import { checkPublishTarget } from './target-rules.js';
import type { TargetRulesOptions } from './target-rules.js';
import { VOLUME_DIR_MODE, gidFor } from './options.js';
import type { LinuxPlatformOptions, PlatformLogger } from './options.js';
import {
  inspectMounts,
  isOurs,
  isBindOf,
  mountVolume,
  unmountKnownVolume,
  unmountVolume,
} from './volume-mounts.js';
import type { VolumePaths } from './volume-mounts.js';

const TMPFS_MAGIC = 0x01021994;

export class LinuxPlatform implements PlatformPort {
  readonly name = 'linux';
  readonly dataRoot: string;
  readonly mounter: Mounter;
  private readonly logger: PlatformLogger | undefined;
  private readonly targetRules: TargetRulesOptions;
  /** See `ThreadScheduler`: SCHED_IDLE on and off for a thread of this process; absent without koffi. */
  readonly setThreadBackground: ((tid: number, background: boolean) => void) | undefined;
  /** See `HeapTrimmer`: gives the C heap's free pages back to the kernel; absent without koffi/glibc. */
  readonly releaseFreeMemory: (() => boolean) | undefined;
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * st_dev of each volume's tmpfs that this process mounted or found intact in the mount table, so
   * removing it needs no table (see `unmountKnownVolume`). Forgotten when the volume is removed.
   */
  private readonly devices = new Map<string, number>();
  private canonicalRoot: string | undefined;
  private rootCreated: Promise<unknown> | undefined;

  /** Throws `invalid-argument` when `dataRoot` is not an acceptable absolute path. */
  constructor(options: LinuxPlatformOptions) {
    const reason = checkTargetPath(options.dataRoot);
    if (reason !== undefined) throw new PlatformError('invalid-argument', `data root ${reason}`);
    this.dataRoot = options.dataRoot;
    this.logger = options.logger;
    this.targetRules = options.targets ?? {};
    this.mounter = options.mounter ?? new ExecMounter();
    this.setThreadBackground = options.threadScheduler;
    this.releaseFreeMemory = options.heapTrimmer;
  }

  /** See `prepareUnixEndpoint`: returns `unix:///abs/path.sock`, removing a stale socket. */
  prepareEndpoint(endpoint: string): Promise<string> {
    return prepareUnixEndpoint(endpoint, this.logger);
  }

  checkTargetPath(targetPath: string): string | undefined {
    return checkTargetPath(targetPath);
  }

  /** See `checkPublishTarget` (target-rules.ts), with the root and reserved directories of `options.targets`. */
  checkPublishTarget(t: { volumeId: string; targetPath: string; podUid: string }): string | undefined {
    const badId = checkVolumeId(t.volumeId);
    if (badId !== undefined) return `cannot be checked for volume id ${badId}`;
    const own = path.join(this.dataRoot, t.volumeId);
    return checkPublishTarget(t.targetPath, t.podUid, this.targetRules, own);
  }

  checkFileName(name: string): string | undefined {
    return checkFileName(name);
  }

  /**
   * Mounts a tmpfs of `sizeBytes` (root 0755 root:fsGroup, or root:root without an fsGroup) at
   * `${dataRoot}/<volumeId>` and binds it read-only at `targetPath`, creating that directory when
   * missing. Already published: nothing happens. Throws `invalid-argument` for a bad id, path or
   * size, `failed-precondition` when a path holds some other mount; other failures roll back.
   */
  async createVolume(req: CreateVolumeRequest): Promise<void> {
    if (!Number.isSafeInteger(req.sizeBytes) || req.sizeBytes <= 0) {
      throw invalid(`volume ${req.volumeId}: size must be a positive number of bytes, got ${req.sizeBytes}`);
    }
    if (req.fsGroup !== undefined && !isGroupId(req.fsGroup)) {
      throw invalid(`volume ${req.volumeId}: fsGroup must be a group id, got ${req.fsGroup}`);
    }
    const paths = await this.paths(req);
    const started = performance.now();
    await this.serialize(req.volumeId, async () => {
      this.rootCreated ??= mkdir(this.dataRoot, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
        this.rootCreated = undefined;
        throw wrapInternal(err, `creating data root ${this.dataRoot}`);
      });
      await this.rootCreated;
      const tmpfs = { sizeBytes: req.sizeBytes, mode: VOLUME_DIR_MODE, gid: gidFor(req.fsGroup) };
      await mountVolume({ mounter: this.mounter, logger: this.logger }, paths, tmpfs);
      this.remember(req.volumeId, paths.dataDir);
    });
    const ms = performance.now() - started;
    this.logger?.debug(
      { volumeId: req.volumeId, targetPath: req.targetPath, mounter: this.mounter.name, ms },
      'volume mounted',
    );
  }

  /**
   * Swaps in a new file set atomically (see atomic-writer.ts); files are owned by root and the group
   * `createVolume` gave the tmpfs root (the fsGroup, else root's), with exactly the given modes;
   * directories get VOLUME_DIR_MODE. That group is the volume's record of its fsGroup: read back
   * from the mount, it survives a restart of the driver. Throws `not-found` when the
   * volume's tmpfs is not mounted (nothing is ever written to the host's disk), `invalid-argument`
   * for a bad or duplicate name, `resource-exhausted` when the tmpfs is full (the old set stays).
   */
  async writeFiles(volumeId: string, files: VolumeFile[]): Promise<void> {
    const seen = new Set<string>();
    for (const file of files) {
      const reason = checkFileName(file.name);
      if (reason !== undefined) throw invalid(`volume ${volumeId}: file name ${reason}`);
      if (seen.has(file.name)) throw invalid(`volume ${volumeId}: file name "${file.name}" given twice`);
      seen.add(file.name);
    }
    const dir = await this.dataDir(volumeId);
    await this.serialize(volumeId, async () => {
      const root = this.assertTmpfs(volumeId, dir);
      const dirMode = VOLUME_DIR_MODE;
      try {
        // A volume mounted by an older driver (0700/0750 root) is opened up to VOLUME_DIR_MODE.
        if ((root.mode & 0o7777) !== dirMode) chmodSync(dir, dirMode);
      } catch (err) {
        throw wrapInternal(err, `volume ${volumeId}: setting the mode of ${dir}`);
      }
      writeFileSet({ volumeId, dir, files, gid: root.gid, dirMode, logger: this.logger });
    });
  }

  /** Reads `name` from the current set; undefined when the volume or the file does not exist. */
  async readFile(volumeId: string, name: string): Promise<Uint8Array | undefined> {
    const reason = checkFileName(name);
    if (reason !== undefined) throw invalid(`volume ${volumeId}: file name ${reason}`);
    const dir = await this.dataDir(volumeId);
    try {
      return readCurrentFile(dir, name);
    } catch (err) {
      throw wrapInternal(err, `volume ${volumeId}: reading ${name}`);
    }
  }

  /**
   * True when our tmpfs is at the data dir, a bind of it at `targetPath` (read-only where this process
   * made it; read-write as seen from a new mount namespace, e.g. after a rollout) and `..data` exists.
   */
  async isPublished(loc: VolumeLocation): Promise<boolean> {
    const paths = await this.paths(loc);
    const { data, target } = inspectMounts(paths);
    if (data === undefined || !isOurs(data) || !isBindOf(target, data)) return false;
    this.remember(loc.volumeId, paths.dataDir);
    return statSync(path.join(paths.dataDir, DATA_LINK), { throwIfNoEntry: false })?.isDirectory() === true;
  }

  /**
   * Unmounts and removes the target path, then the tmpfs and the data dir; every file is gone.
   * Missing pieces are not an error; a busy mount is detached lazily. Throws `failed-precondition`
   * instead of unmounting a mount this adapter did not make.
   */
  async removeVolume(loc: VolumeLocation): Promise<void> {
    const paths = await this.paths(loc);
    await this.serialize(loc.volumeId, async () => {
      const ctx = { mounter: this.mounter, logger: this.logger };
      const dev = this.devices.get(loc.volumeId);
      await (dev === undefined ? unmountVolume(ctx, paths) : unmountKnownVolume(ctx, paths, dev));
      this.devices.delete(loc.volumeId);
    });
    this.logger?.debug({ volumeId: loc.volumeId, targetPath: loc.targetPath }, 'volume removed');
  }

  /** Records the device of the tmpfs now mounted at `dataDir` (ours: the caller just checked). */
  private remember(volumeId: string, dataDir: string): void {
    const dev = statSync(dataDir, { throwIfNoEntry: false })?.dev;
    if (dev === undefined) this.devices.delete(volumeId);
    else this.devices.set(volumeId, dev);
  }

  /** Validated, canonical paths of a volume. */
  private async paths(loc: VolumeLocation): Promise<VolumePaths> {
    const reason = checkTargetPath(loc.targetPath);
    if (reason !== undefined) throw invalid(`volume ${loc.volumeId}: target path ${reason}`);
    const dataDir = await this.dataDir(loc.volumeId);
    let targetPath: string;
    try {
      targetPath = canonicalPath(loc.targetPath);
    } catch (err) {
      throw wrapInternal(err, `volume ${loc.volumeId}: resolving target path ${loc.targetPath}`);
    }
    return { volumeId: loc.volumeId, dataDir, targetPath };
  }

  private async dataDir(volumeId: string): Promise<string> {
    const reason = checkVolumeId(volumeId);
    if (reason !== undefined) throw invalid(`volume id ${reason}`);
    this.canonicalRoot ??= canonicalPath(this.dataRoot);
    return path.join(this.canonicalRoot, volumeId);
  }

  /** The stats of the volume's root when a tmpfs of its own is mounted there; `not-found` otherwise. */
  private assertTmpfs(volumeId: string, dir: string): Stats {
    const own = statSync(dir, { throwIfNoEntry: false });
    const parent = statSync(path.dirname(dir), { throwIfNoEntry: false });
    const isTmpfs =
      own !== undefined &&
      parent !== undefined &&
      own.dev !== parent.dev &&
      statfsSync(dir).type === TMPFS_MAGIC;
    if (!isTmpfs) {
      throw new PlatformError(
        'not-found',
        `volume ${volumeId}: no tmpfs is mounted at ${dir}; create the volume first`,
      );
    }
    return own;
  }

  /** Runs `fn` after every earlier call for the same volume has settled. */
  private async serialize<T>(volumeId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(volumeId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(volumeId, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(volumeId) === settled) this.locks.delete(volumeId);
    }
  }
}

const invalid = (message: string): PlatformError => new PlatformError('invalid-argument', message);
