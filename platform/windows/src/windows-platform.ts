import { mkdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FileAcl, type AclStatus, type RunCommand } from './acl.js';
import { pipeBindAddress } from './endpoint.js';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import type { CreateVolumeRequest, VolumeFile, VolumeLocation } from '@csi-cert-driver/platform-contract';
import type { PlatformPort } from '@csi-cert-driver/platform-contract';
import { fromFsError } from './fs-errors.js';
import { holdsCompleteSet, readManifest, removeFileSet, replaceFileSet, writeManifest } from './file-set.js';
import { ancestorsUpTo, holdsOnlyOurs, removeEmptyDir } from './fs-util.js';
import { checkFileName, checkPublishTarget, checkTargetPath, sameWindowsName } from './paths.js';
import { VolumeRegistry, type VolumeRecord } from './volume-registry.js';

export interface WindowsPlatformOptions {
  /** Driver state directory on the node (volume records); never holds key material. */
  dataRoot: string;
  /** SIDs granted read access to volume files besides SYSTEM and Administrators (the pods' identity). */
  aclReaderSids?: readonly string[];
  /** A pino-style logger (as the Linux adapter takes); told once about platform gaps. */
  logger?: { warn(obj: object, msg: string): void } | undefined;
  /** Told once about platform gaps instead of the logger; `process.emitWarning` when neither is given. */
  onWarning?: ((message: string) => void) | undefined;
  /** Runs icacls; a seam for tests. */
  runCommand?: RunCommand;
  /** Where publishes may go (KUBELET_ROOT_DIR, CERT_BASE_PATH); see `checkPublishTarget` in paths.ts. */
  targets?: { kubeletRoot?: string | undefined; reserved?: readonly string[] | undefined } | undefined;
}

/**
 * The platform port on Windows nodes: gRPC on a named pipe, volume files written straight into
 * kubelet's target directory on the node's disk (no tmpfs exists), each file replaced by
 * write-temp-then-rename, ACLs set with icacls, no symlinks or junctions. See docs/windows.md for
 * what this protects compared with Linux.
 */
export class WindowsPlatform implements PlatformPort {
  readonly name = 'windows';
  private readonly volumes: VolumeRegistry;
  private readonly acl: FileAcl;
  private readonly targets: NonNullable<WindowsPlatformOptions['targets']>;

  constructor(options: WindowsPlatformOptions) {
    this.volumes = new VolumeRegistry(options.dataRoot);
    this.targets = options.targets ?? {};
    const logger = options.logger;
    const onWarning =
      options.onWarning ?? (logger ? (msg: string) => logger.warn({ platform: 'windows' }, msg) : undefined);
    this.acl = new FileAcl({
      readerSids: options.aclReaderSids ?? [],
      ...(onWarning ? { onWarning } : {}),
      ...(options.runCommand ? { run: options.runCommand } : {}),
    });
  }

  /** Whether volume files get restrictive ACLs on this host ('unknown' until the first write). */
  get aclStatus(): AclStatus {
    return this.acl.current;
  }

  /** Named pipes leave no file behind, so there is nothing stale to remove. */
  async prepareEndpoint(endpoint: string): Promise<string> {
    return pipeBindAddress(endpoint);
  }

  checkTargetPath(targetPath: string): string | undefined {
    return checkTargetPath(targetPath);
  }

  checkPublishTarget(t: { volumeId: string; targetPath: string; podUid: string }): string | undefined {
    return checkPublishTarget(t.targetPath, t.podUid, this.targets);
  }

  checkFileName(name: string): string | undefined {
    return checkFileName(name);
  }

  /**
   * Creates the target directory and marks it with an empty manifest. Idempotent for the same
   * volume; refuses a directory of another volume or one holding foreign files. Undoes itself on failure.
   */
  async createVolume(req: CreateVolumeRequest): Promise<void> {
    const dir = this.targetDir(req.targetPath);
    const record: VolumeRecord = { volumeId: req.volumeId, targetPath: dir, sizeBytes: req.sizeBytes };
    const existing = await statOrUndefined(dir);
    if (existing) {
      if (!existing.isDirectory()) throw precondition(`target path '${dir}' exists and is not a directory`);
      const manifest = await readManifest(dir);
      if (manifest && manifest.volumeId !== req.volumeId) {
        throw precondition(`target path '${dir}' belongs to volume '${manifest.volumeId}'`);
      }
      if (manifest) return this.volumes.remember(record).catch((e) => Promise.reject(fromFsError(e, dir)));
      if (!(await holdsOnlyOurs(dir)))
        throw precondition(`target path '${dir}' holds files the driver did not write`);
    }
    let created: string | undefined;
    try {
      if (!existing) created = await mkdir(dir, { recursive: true });
      await writeManifest(dir, {
        version: 1,
        volumeId: req.volumeId,
        generation: 0,
        state: 'created',
        files: [],
      });
      await this.volumes.remember(record);
    } catch (e) {
      await this.undoCreate(dir, created);
      throw fromFsError(e, `creating volume '${req.volumeId}' at '${dir}'`);
    }
  }

  /** Replaces the volume's files one by one (see file-set.ts for the order and its guarantees). */
  async writeFiles(volumeId: string, files: VolumeFile[]): Promise<void> {
    const record = await this.requireVolume(volumeId);
    files.forEach((file, i) => {
      const why = checkFileName(file.name);
      if (why) throw new PlatformError('invalid-argument', `file '${file.name}': ${why}`);
      const twin = files.slice(0, i).find((other) => sameWindowsName(other.name, file.name));
      if (twin)
        throw new PlatformError(
          'invalid-argument',
          `files '${twin.name}' and '${file.name}' collide on Windows`,
        );
    });
    const size = files.reduce((sum, f) => sum + f.data.byteLength, 0);
    if (record.sizeBytes > 0 && size > record.sizeBytes) {
      throw new PlatformError(
        'resource-exhausted',
        `volume '${volumeId}': ${size} bytes exceed its ${record.sizeBytes}`,
      );
    }
    const dir = record.targetPath;
    if (!(await statOrUndefined(dir))?.isDirectory()) {
      throw new PlatformError('not-found', `volume '${volumeId}': target directory '${dir}' is gone`);
    }
    try {
      await replaceFileSet({ dir, volumeId, files, protect: (path) => this.acl.restrict(path) });
    } catch (e) {
      throw fromFsError(e, `writing files of volume '${volumeId}'`);
    }
  }

  async readFile(volumeId: string, name: string): Promise<Uint8Array | undefined> {
    const why = checkFileName(name);
    if (why) throw new PlatformError('invalid-argument', `file '${name}': ${why}`);
    const record = await this.volumes.lookup(volumeId);
    if (!record) return undefined;
    const manifest = await readManifest(record.targetPath);
    const listed =
      manifest?.volumeId === volumeId ? manifest.files.find((f) => sameWindowsName(f, name)) : undefined;
    if (listed === undefined) return undefined;
    try {
      return new Uint8Array(await readFile(join(record.targetPath, listed)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromFsError(e, `reading '${name}' of volume '${volumeId}'`);
    }
  }

  /** True when the target directory holds a complete set written for this volume. */
  async isPublished(loc: VolumeLocation): Promise<boolean> {
    if (checkTargetPath(loc.targetPath)) return false;
    const dir = this.targetDir(loc.targetPath);
    const published = await holdsCompleteSet(dir, loc.volumeId);
    if (published) this.volumes.adopt({ volumeId: loc.volumeId, targetPath: dir, sizeBytes: 0 });
    return published;
  }

  /** Removes every file the driver wrote, its manifest and the directory. A missing volume is not an error. */
  async removeVolume(loc: VolumeLocation): Promise<void> {
    const dir = this.targetDir(loc.targetPath);
    const info = await statOrUndefined(dir);
    if (info && !info.isDirectory()) throw precondition(`target path '${dir}' is not a directory`);
    if (info) {
      const manifest = await readManifest(dir);
      if (manifest && manifest.volumeId !== loc.volumeId) {
        throw precondition(`target path '${dir}' belongs to volume '${manifest.volumeId}'`);
      }
      if (!manifest && !(await holdsOnlyOurs(dir)))
        throw precondition(`'${dir}' holds files the driver did not write`);
      try {
        await removeFileSet(dir, manifest);
        await removeEmptyDir(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY') {
          throw precondition(`'${dir}' still holds files the driver did not write; they were left in place`);
        }
        throw fromFsError(e, `removing volume '${loc.volumeId}'`);
      }
    }
    await this.volumes.forget(loc.volumeId).catch((e) => Promise.reject(fromFsError(e, 'forgetting volume')));
  }

  private targetDir(targetPath: string): string {
    const why = checkTargetPath(targetPath);
    if (why) throw new PlatformError('invalid-argument', `target path '${targetPath}': ${why}`);
    return targetPath;
  }

  private async requireVolume(volumeId: string): Promise<VolumeRecord> {
    const record = await this.volumes.lookup(volumeId);
    if (!record) throw new PlatformError('not-found', `volume '${volumeId}' was not created on this node`);
    return record;
  }

  /** Removes what a failed createVolume made: the new directory and any parents it had to create. */
  private async undoCreate(dir: string, created: string | undefined): Promise<void> {
    if (created === undefined) {
      await removeFileSet(dir, undefined).catch(() => undefined);
      return;
    }
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    // Non-recursive and stopping at the first failure: a parent another volume uses is never touched.
    for (const parent of ancestorsUpTo(dir, created)) {
      if (
        !(await rmdir(parent).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  }
}

function precondition(message: string): PlatformError {
  return new PlatformError('failed-precondition', message);
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromFsError(e, `inspecting '${path}'`);
  }
}
