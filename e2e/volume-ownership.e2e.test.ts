/**
 * A volume's operations touch only what that volume owns (docs/security.md): over the real CSI
 * socket with real mounts, an unpublish or a publish naming another volume's target path, data
 * directory or a host directory the driver never made leaves all of it as it was, and a publish to a
 * target kubelet would never use is refused with INVALID_ARGUMENT before anything is written.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, codeName, type Volume } from './support/harness.js';
import { expectGone, expectMountedOnce, expectValidPair } from './support/volume-checks.js';

describe('a volume operation touches only what its volume owns', () => {
  let h: Harness;
  let a: Volume;
  let aState: string;

  beforeAll(async () => {
    h = await Harness.start({ suite: 'volume-ownership' });
    a = h.newVolume();
    const res = await h.publish(a);
    expect(res, res.details).toMatchObject({ code: 0 });
    aState = readFileSync(h.stateFile(a.volumeId), 'utf8');
  });

  afterAll(async () => {
    if (!h) return;
    await h.unpublish(a).catch(() => undefined);
    await h.close();
  });

  /** Volume A is mounted, its key pair verifies and its state is unchanged. */
  async function expectAIntact(): Promise<void> {
    expectMountedOnce(h, a);
    await expectValidPair(h, a);
    expect(readFileSync(h.stateFile(a.volumeId), 'utf8')).toBe(aState);
  }

  const otherId = (): string => `csi-${randomBytes(32).toString('hex')}`;

  it("unpublish of another volume id at A's target path answers OK and leaves A mounted", async () => {
    const res = await h.unpublish({ volumeId: otherId(), targetPath: a.targetPath });
    expect(res, res.details).toMatchObject({ code: 0 });
    await expectAIntact();
  });

  it("unpublish of A's id at a path it was not published to leaves that path and A alone", async () => {
    const elsewhere = h.newVolume(a.pod, 'other');
    mkdirSync(elsewhere.targetPath);
    const res = await h.unpublish({ volumeId: a.volumeId, targetPath: elsewhere.targetPath });
    expect(res, res.details).toMatchObject({ code: 0 });
    expect(existsSync(elsewhere.targetPath), 'the directory the driver never made').toBe(true);
    await expectAIntact();
  });

  it('unpublish of an unknown volume does not remove an empty directory the driver never made', async () => {
    const vol = h.newVolume();
    mkdirSync(vol.targetPath);
    const res = await h.unpublish(vol);
    expect(res, res.details).toMatchObject({ code: 0 });
    expect(existsSync(vol.targetPath)).toBe(true);
  });

  it.each([
    { name: "A's target path", target: () => a.targetPath },
    { name: "A's data directory", target: () => h.dataDir(a.volumeId) },
    { name: "a directory inside A's read-only mount", target: () => join(a.targetPath, 'sub', 'mount') },
  ])('a publish at $name fails with INVALID_ARGUMENT, leaves no state and A intact', async ({ target }) => {
    const b: Volume = { ...h.newVolume(a.pod, `b${randomBytes(3).toString('hex')}`), targetPath: target() };
    const res = await h.publish(b);
    expect(codeName(res.code), res.details).toBe('INVALID_ARGUMENT');
    expect(res.details).toContain('target_path');
    expect(existsSync(h.stateFile(b.volumeId)), 'state of the failed publish').toBe(false);
    expect(existsSync(h.dataDir(b.volumeId)), 'data dir of the failed publish').toBe(false);
    await expectAIntact();
  });

  it.each([
    {
      name: 'a symlinked target',
      make: (v: Volume) => {
        const real = join(h.root, `real-${randomBytes(3).toString('hex')}`);
        mkdirSync(real);
        symlinkSync(real, v.targetPath);
        return v.targetPath;
      },
      want: /symbolic link/,
    },
    {
      name: 'a non-empty host directory',
      make: (v: Volume) => {
        mkdirSync(v.targetPath);
        writeFileSync(join(v.targetPath, 'host-file'), 'keep me');
        return v.targetPath;
      },
      want: /non-empty directory/,
    },
    { name: '/proc/self', make: () => '/proc/self', want: /below the kubelet root/ },
    {
      name: 'a path outside the kubelet root',
      make: () => join(h.root, 'outside', 'mount'),
      want: /below the kubelet root/,
    },
    {
      name: 'a path not in kubelet shape',
      make: (v: Volume) => join(h.kubeletDir, 'pods', v.pod.uid, 'mount'),
      want: /kubelet's shape/,
    },
    {
      name: "another pod's directory",
      make: () => h.newVolume(h.newPod()).targetPath,
      want: /volume's pod/,
    },
  ])('a publish to $name fails with INVALID_ARGUMENT naming target_path and writes nothing', async (c) => {
    const vol = h.newVolume();
    const target = c.make(vol);
    const res = await h.publish({ ...vol, targetPath: target });
    expect(codeName(res.code), res.details).toBe('INVALID_ARGUMENT');
    expect(res.details).toContain('target_path');
    expect(res.details).toMatch(c.want);
    expect(existsSync(h.stateFile(vol.volumeId)), 'state of the failed publish').toBe(false);
    expect(existsSync(h.dataDir(vol.volumeId)), 'data dir of the failed publish').toBe(false);
    if (existsSync(join(target, 'host-file')))
      expect(readFileSync(join(target, 'host-file'), 'utf8')).toBe('keep me');
  });

  it('A still unpublishes cleanly at its own target path', async () => {
    await expectAIntact();
    const res = await h.unpublish(a);
    expect(res, res.details).toMatchObject({ code: 0 });
    expectGone(h, a);
  });
});
