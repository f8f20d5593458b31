import { PlatformError } from '@csi-cert-driver/platform-contract';
import type { CreateVolumeRequest, VolumeFile, VolumeLocation } from '@csi-cert-driver/platform-contract';
import type { PlatformPort } from '@csi-cert-driver/platform-contract';

interface FakeVolume {
  targetPath: string;
  files: Map<string, VolumeFile>;
  fsGroup?: number | undefined;
}

/**
 * FakePlatform: an in-memory PlatformPort for unit tests of the core (no mounts, no disk). Knobs
 * let a test make the next operation fail to exercise rollback.
 */
export class FakePlatform implements PlatformPort {
  readonly name = 'fake';
  readonly volumes = new Map<string, FakeVolume>();
  failNext: { op: 'createVolume' | 'writeFiles' | 'removeVolume'; error: Error } | undefined;

  async prepareEndpoint(endpoint: string): Promise<string> {
    return endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`;
  }

  checkTargetPath(targetPath: string): string | undefined {
    if (!targetPath.startsWith('/')) return 'must be an absolute path';
    if (targetPath.split('/').includes('..')) return 'must not contain ".." segments';
    return undefined;
  }

  /** Syntax only, plus "not an existing volume's target": the fake has no file system to look at. */
  checkPublishTarget(t: { volumeId: string; targetPath: string; podUid: string }): string | undefined {
    const syntax = this.checkTargetPath(t.targetPath);
    if (syntax !== undefined) return syntax;
    for (const [id, v] of this.volumes)
      if (v.targetPath === t.targetPath && id !== t.volumeId)
        return `must not be an existing non-empty directory (volume ${id} is there)`;
    return undefined;
  }

  checkFileName(name: string): string | undefined {
    return name.includes('/') ? 'must not contain "/"' : undefined;
  }

  private maybeFail(op: 'createVolume' | 'writeFiles' | 'removeVolume'): void {
    if (this.failNext?.op === op) {
      const { error } = this.failNext;
      this.failNext = undefined;
      throw error;
    }
  }

  async createVolume(req: CreateVolumeRequest): Promise<void> {
    this.maybeFail('createVolume');
    if (!this.volumes.has(req.volumeId)) {
      this.volumes.set(req.volumeId, { targetPath: req.targetPath, files: new Map(), fsGroup: req.fsGroup });
    }
  }

  async writeFiles(volumeId: string, files: VolumeFile[]): Promise<void> {
    this.maybeFail('writeFiles');
    const v = this.volumes.get(volumeId);
    if (!v) throw new PlatformError('not-found', `volume ${volumeId} does not exist`);
    v.files = new Map(files.map((f) => [f.name, f]));
  }

  async readFile(volumeId: string, name: string): Promise<Uint8Array | undefined> {
    return this.volumes.get(volumeId)?.files.get(name)?.data;
  }

  async isPublished(loc: VolumeLocation): Promise<boolean> {
    const v = this.volumes.get(loc.volumeId);
    return !!v && v.targetPath === loc.targetPath && v.files.size > 0;
  }

  async removeVolume(loc: VolumeLocation): Promise<void> {
    this.maybeFail('removeVolume');
    this.volumes.delete(loc.volumeId);
  }
}
