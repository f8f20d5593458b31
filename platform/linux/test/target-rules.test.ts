import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPublishTarget } from '../src/index.js';

const UID = '1f0c2d6e-0000-4000-8000-000000000001';
const isRoot = process.getuid?.() === 0;

describe('checkPublishTarget', () => {
  let root: string;
  let kubelet: string;
  let base: string;
  const podDir = (uid = UID, name = 'tls'): string =>
    join(kubelet, 'pods', uid, 'volumes', 'kubernetes.io~csi', name);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ccd-target-'));
    kubelet = join(root, 'kubelet');
    base = join(kubelet, 'csi-certs'); // a CERT_BASE_PATH inside the kubelet root, to test the rule
    for (const n of ['tls', 'full', 'linked-parent', 'mounted'])
      mkdirSync(podDir(UID, n), { recursive: true });
    mkdirSync(join(podDir(UID, 'full'), 'mount'));
    writeFileSync(join(podDir(UID, 'full'), 'mount', 'host-file'), 'x');
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'elsewhere'), join(podDir(UID, 'linked-parent'), 'mount'));
    mkdirSync(join(podDir(UID, 'mounted'), 'mount'));
    if (isRoot) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', podDir(UID, 'mounted')]);
  });

  afterAll(() => {
    if (isRoot) execFileSync('umount', ['-l', podDir(UID, 'mounted')]);
    rmSync(root, { recursive: true, force: true });
  });

  const opts = () => ({ kubeletRoot: kubelet, reserved: [base] });

  it('accepts a missing target and an empty one in kubelet shape', () => {
    expect(checkPublishTarget(join(podDir(), 'mount'), UID, opts())).toBeUndefined();
    mkdirSync(join(podDir(), 'mount'));
    expect(checkPublishTarget(join(podDir(), 'mount'), UID, opts())).toBeUndefined();
    rmSync(join(podDir(), 'mount'), { recursive: true });
  });

  it.each([
    {
      name: 'outside the kubelet root',
      target: () => join(root, 'elsewhere', 'mount'),
      want: /below the kubelet root/,
    },
    { name: '/proc/self', target: () => '/proc/self', want: /below the kubelet root/ },
    {
      name: 'not kubelet shaped',
      target: () => join(kubelet, 'pods', UID, 'mount'),
      want: /kubelet's shape/,
    },
    { name: 'one level deeper', target: () => join(podDir(), 'mount', 'x'), want: /kubelet's shape/ },
    {
      name: "another pod's directory",
      target: () => join(podDir('other-uid'), 'mount'),
      want: /volume's pod/,
    },
    {
      name: 'a symlinked target',
      target: () => join(podDir(UID, 'linked-parent'), 'mount'),
      want: /symbolic link/,
    },
    {
      name: 'a non-empty directory',
      target: () => join(podDir(UID, 'full'), 'mount'),
      want: /non-empty directory/,
    },
    {
      name: 'inside CERT_BASE_PATH',
      target: () => base,
      want: /below the kubelet root|kubelet's shape|inside/,
    },
    { name: 'not normalized', target: () => join(podDir(), 'mount') + '/', want: /must not end/ },
  ])('refuses $name', ({ target, want }) => {
    expect(checkPublishTarget(target(), UID, opts())).toMatch(want);
  });

  it('refuses a target in CERT_BASE_PATH even when kubelet shaped', () => {
    expect(
      checkPublishTarget(join(podDir(), 'mount'), UID, { kubeletRoot: kubelet, reserved: [kubelet] }),
    ).toMatch(/must not be inside/);
  });

  it.skipIf(!isRoot)('refuses a target inside another mount (another volume, say)', () => {
    expect(checkPublishTarget(join(podDir(UID, 'mounted'), 'mount'), UID, opts())).toMatch(
      /inside another mount: .* is a mount point/,
    );
  });

  // The chart's DaemonSet mounts the host's pods directory into the driver's container.
  it.skipIf(!isRoot)('accepts a kubelet root whose pods directory is a mount point of its own', () => {
    const other = mkdtempSync(join(tmpdir(), 'ccd-target-pods-'));
    const podsRoot = join(other, 'kubelet');
    mkdirSync(join(podsRoot, 'pods'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', join(podsRoot, 'pods')]);
    try {
      const dir = join(podsRoot, 'pods', UID, 'volumes', 'kubernetes.io~csi', 'tls');
      mkdirSync(dir, { recursive: true });
      expect(checkPublishTarget(join(dir, 'mount'), UID, { kubeletRoot: podsRoot })).toBeUndefined();
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', join(podsRoot, 'pods', UID)]);
      mkdirSync(dir, { recursive: true });
      expect(checkPublishTarget(join(dir, 'mount'), UID, { kubeletRoot: podsRoot })).toMatch(
        /inside another mount: .* is a mount point/,
      );
      execFileSync('umount', ['-l', join(podsRoot, 'pods', UID)]);
    } finally {
      execFileSync('umount', ['-l', join(podsRoot, 'pods')]);
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('without a kubelet root still refuses symlinks anywhere and non-empty directories', () => {
    expect(checkPublishTarget('/proc/self', UID, {})).toMatch(/symbolic link/);
    expect(checkPublishTarget(join(podDir(UID, 'full'), 'mount'), UID, {})).toMatch(/non-empty/);
    expect(checkPublishTarget(join(root, 'new'), UID, {})).toBeUndefined();
  });
});
