import { lstat, mkdir, readlink, rm, rmdir, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { prepareUnixEndpoint } from './endpoint.js';
import { checkFileName, checkTargetPath, checkVolumeId } from './paths.js';
import { checkPublishTarget } from './target-rules.js';
import type { TargetRulesOptions } from './target-rules.js';
import { DATA_LINK, readCurrentFile, writeFileSet } from './atomic-writer.js';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import type { CreateVolumeRequest, VolumeFile, VolumeLocation } from '@csi-cert-driver/platform-contract';
import type { PlatformPort } from '@csi-cert-driver/platform-contract';
import type { PlatformLogger } from './options.js';

/**
 * DirectoryPlatform: the unprivileged fallback used only by the demo when it does not run as root.
 * No mounts: each volume is a plain directory `${dataRoot}/<volumeId>` owned by the current user
 * (0700), the target path is a symlink to it, and files are swapped with the same `..data` writer
 * as on tmpfs. Key material is on the disk of the machine and the pod's view is not read-only.
 */
export class DirectoryPlatform implements PlatformPort {
  readonly name = 'linux-directory';

  /** fsGroup of each volume created by this process. */
  private readonly groups = new Map<string, number>();

  constructor(
    private readonly options: {
      dataRoot: string;
      logger?: PlatformLogger | undefined;
      targets?: TargetRulesOptions | undefined;
    },
  ) {}

  prepareEndpoint(endpoint: string): Promise<string> {
    return prepareUnixEndpoint(endpoint, this.options.logger);
  }

  checkTargetPath(targetPath: string): string | undefined {
    return checkTargetPath(targetPath);
  }

  /** The Linux adapter's target rules (target-rules.ts). */
  checkPublishTarget(t: { volumeId: string; targetPath: string; podUid: string }): string | undefined {
    return checkPublishTarget(t.targetPath, t.podUid, this.options.targets ?? {});
  }

  checkFileName(name: string): string | undefined {
    return checkFileName(name);
  }

  private dir(volumeId: string): string {
    const reason = checkVolumeId(volumeId);
    if (reason) throw new PlatformError('invalid-argument', `volume id ${reason}`);
    return path.join(this.options.dataRoot, volumeId);
  }

  /** Creates the volume directory and links the target path to it. Idempotent. */
  async createVolume(req: CreateVolumeRequest): Promise<void> {
    const dir = this.dir(req.volumeId);
    if (req.fsGroup !== undefined) this.groups.set(req.volumeId, req.fsGroup);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const current = await lstat(req.targetPath).catch(() => undefined);
    if (current?.isSymbolicLink() && (await readlink(req.targetPath)) === dir) return;
    if (current?.isDirectory()) await rmdir(req.targetPath).catch(() => undefined);
    else if (current)
      throw new PlatformError('failed-precondition', `target path ${req.targetPath} already exists`);
    await mkdir(path.dirname(req.targetPath), { recursive: true, mode: 0o750 });
    await symlink(dir, req.targetPath);
  }

  /** Files get the fsGroup recorded by `createVolume` in this process, else the current user's group. */
  async writeFiles(volumeId: string, files: VolumeFile[]): Promise<void> {
    writeFileSet({
      volumeId,
      dir: this.dir(volumeId),
      files,
      uid: process.getuid?.() ?? 0,
      gid: this.groups.get(volumeId) ?? process.getgid?.() ?? 0,
      dirMode: 0o700,
      logger: this.options.logger,
    });
  }

  async readFile(volumeId: string, name: string): Promise<Uint8Array | undefined> {
    return readCurrentFile(this.dir(volumeId), name);
  }

  async isPublished(loc: VolumeLocation): Promise<boolean> {
    const dir = this.dir(loc.volumeId);
    const link = await readlink(loc.targetPath).catch(() => undefined);
    const data = await lstat(path.join(dir, DATA_LINK)).catch(() => undefined);
    return link === dir && data !== undefined;
  }

  /** Removes the link and the volume directory. A missing volume is not an error. */
  async removeVolume(loc: VolumeLocation): Promise<void> {
    const current = await lstat(loc.targetPath).catch(() => undefined);
    if (current?.isSymbolicLink()) await unlink(loc.targetPath);
    else if (current?.isDirectory()) await rmdir(loc.targetPath).catch(() => undefined);
    await rm(this.dir(loc.volumeId), { recursive: true, force: true });
    this.groups.delete(loc.volumeId);
  }
}
