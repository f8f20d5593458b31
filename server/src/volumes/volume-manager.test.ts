import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessIssuer } from '../../test/support/in-process-issuer.js';
import { numberedPublishRequest } from '../../test/support/publish-requests.js';
import { UnavailableError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { CheckedIssuer } from '../issuer-client/testing.js';
import { FakePlatform } from '../platform/fake-platform.js';
import type { CreateVolumeRequest, VolumeFile, VolumeLocation } from '@csi-cert-driver/platform-contract';
import { generateKey, type KeyPair } from '../pki/keys.js';
import { FileStateStore } from './file-state-store.js';
import type { PutOptions } from './state-store.port.js';
import { VolumeManager } from './volume-manager.js';
import type { VolumeState } from './volume-state.js';

/** Where each step of a publish starts, in the order they start. */
type Step = 'sign' | 'put publishing' | 'put published' | 'createVolume' | 'writeFiles';

class RecordingPlatform extends FakePlatform {
  readonly removed: string[] = [];
  constructor(private readonly steps: Step[]) {
    super();
  }
  override removeVolume(loc: VolumeLocation): Promise<void> {
    this.removed.push(`${loc.volumeId} ${loc.targetPath}`);
    return super.removeVolume(loc);
  }
  override createVolume(req: CreateVolumeRequest): Promise<void> {
    this.steps.push('createVolume');
    return super.createVolume(req);
  }
  override writeFiles(volumeId: string, files: VolumeFile[]): Promise<void> {
    this.steps.push('writeFiles');
    return super.writeFiles(volumeId, files);
  }
}

class RecordingStore extends FileStateStore {
  constructor(
    dir: string,
    private readonly steps: Step[],
  ) {
    super(dir);
  }
  override put(state: VolumeState, options?: PutOptions): Promise<void> {
    this.steps.push(`put ${state.phase}` as Step);
    return super.put(state, options);
  }
}

describe('VolumeManager.publish', () => {
  let dir: string;
  let steps: Step[];
  let platform: RecordingPlatform;
  let issuer: CheckedIssuer;
  /** Set: every signature fails at once with it. */
  let failWith: Error | undefined;
  let manager: VolumeManager;
  /** Keys as a warm pool hands them out: ready at once. Set `slowKeys` for on-demand generation. */
  let slowKeys: boolean;

  beforeEach(async () => {
    slowKeys = false;
    const ready: KeyPair = await generateKey({ algorithm: 'ECDSA', size: 256 }); // the default key
    dir = await mkdtemp(join(tmpdir(), 'volume-manager-'));
    steps = [];
    platform = new RecordingPlatform(steps);
    failWith = undefined;
    // The real signing code, each call recorded.
    issuer = new CheckedIssuer(await InProcessIssuer.create(), () => {
      steps.push('sign');
      if (failWith) throw failWith;
    });
    manager = new VolumeManager({
      platform,
      issuer,
      store: new RecordingStore(join(dir, 'state'), steps),
      keys: {
        get: async (k) => {
          if (slowKeys) return generateKey(k); // node:crypto's thread pool: a turn of the event loop
          expect(k).toMatchObject({ algorithm: 'ECDSA', size: 256 });
          return ready;
        },
      },
      logger: createLogger({ level: 'silent', role: 'test' }),
      nodeId: 'n1',
      clusterDomain: 'cluster.local',
      volumeSizeBytes: 1 << 20,
    });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('sends the CSR first, then writes the marker and mounts while the issuer signs, then files and state', async () => {
    const state = await manager.publish(numberedPublishRequest(1));
    expect(state.phase).toBe('published');
    // The marker comes before the mount (a restart must find what it mounted); the one durable
    // write starts before the files are written (ADR 12); the request to the issuer goes before
    // either file-system step (ADR 14).
    expect(steps).toEqual(['sign', 'put publishing', 'createVolume', 'put published', 'writeFiles']);
    expect([...(platform.volumes.get('vol-1')?.files.keys() ?? [])]).toEqual([
      'tls.crt',
      'tls.key',
      'ca.crt',
    ]);
  });

  it('with a key still being generated, keeps the order that recovery relies on', async () => {
    slowKeys = true;
    await manager.publish(numberedPublishRequest(1));
    // Whether the mount or the signature comes first depends on the key's thread; these do not.
    const at = (step: Step): number => steps.indexOf(step);
    expect(steps).toHaveLength(5);
    expect(at('put publishing')).toBeLessThan(at('createVolume'));
    expect(at('createVolume')).toBeLessThan(at('put published'));
    expect(at('sign')).toBeLessThan(at('put published'));
    expect(at('put published')).toBeLessThan(at('writeFiles'));
    expect([...(platform.volumes.get('vol-1')?.files.keys() ?? [])]).toEqual([
      'tls.crt',
      'tls.key',
      'ca.crt',
    ]);
  });

  it.each([
    {
      name: 'the issuer refuses at once',
      arrange: () => (failWith = new UnavailableError('issuer down (test)')),
      want: /issuer down/,
    },
    {
      name: 'the mount fails',
      arrange: () => (platform.failNext = { op: 'createVolume', error: new Error('mount: ENOSPC (test)') }),
      want: /ENOSPC/,
    },
    {
      name: 'writing the files fails',
      arrange: () => (platform.failNext = { op: 'writeFiles', error: new Error('tmpfs full (test)') }),
      want: /tmpfs full/,
    },
  ])('when $name, fails and leaves no volume and no state behind', async ({ arrange, want }) => {
    arrange();
    await expect(manager.publish(numberedPublishRequest(2))).rejects.toThrow(want);
    expect(platform.volumes.has('vol-2')).toBe(false);
    expect(await readdir(join(dir, 'state'))).toEqual([]);
  });

  it('a failed mount is undone by the adapter alone: the rollback removes no volume, only the marker', async () => {
    platform.failNext = { op: 'createVolume', error: new Error('mount: EROFS (test)') };
    await expect(manager.publish(numberedPublishRequest(3))).rejects.toThrow(/EROFS/);
    expect(platform.removed).toEqual([]);
    expect(await readdir(join(dir, 'state'))).toEqual([]);
  });

  it('a refused target path is INVALID_ARGUMENT before any step, and leaves no state', async () => {
    await manager.publish(numberedPublishRequest(1));
    steps.length = 0;
    const other = { ...numberedPublishRequest(4), targetPath: numberedPublishRequest(1).targetPath };
    await expect(manager.publish(other)).rejects.toThrow(/target_path: .*non-empty/);
    expect(steps).toEqual([]);
    expect(await readdir(join(dir, 'state'))).toEqual(['vol-1.json']);
  });

  it.each([
    {
      name: "another volume's id at its target path",
      req: () => ({ ...numberedPublishRequest(5), targetPath: numberedPublishRequest(1).targetPath }),
    },
    {
      name: 'its id at a path it is not published to',
      req: () => ({ ...numberedPublishRequest(1), targetPath: numberedPublishRequest(6).targetPath }),
    },
  ])('an unpublish of $name answers OK and touches nothing', async ({ req }) => {
    await manager.publish(numberedPublishRequest(1));
    await manager.unpublish(req());
    expect(platform.removed).toEqual([]);
    expect(platform.volumes.get('vol-1')?.files.size).toBe(3);
    expect(await readdir(join(dir, 'state'))).toEqual(['vol-1.json']);
  });
});
