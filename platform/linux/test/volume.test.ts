import { execFile } from 'node:child_process';
import { chmod, mkdir, open, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinuxPlatform, TMPFS_SOURCE, findMount, readMountInfo, superOption } from '../src/index.js';
import type { VolumeFile } from '@csi-cert-driver/platform-contract';
import type { Mounter } from '../src/index.js';
import {
  cleanScratch,
  decode,
  mountersUnderTest,
  mountsBelow,
  needsRoot,
  recordingLogger,
  scratchDir,
  text,
} from './helpers.js';

const run = promisify(execFile);

const files = (token: string): VolumeFile[] => [
  { name: 'tls.crt', data: text(`cert ${token}`), mode: 0o440 },
  { name: 'tls.key', data: text(`key ${token}`), mode: 0o440 },
  { name: 'ca.crt', data: text('ca'), mode: 0o444 },
];

describe.each(mountersUnderTest())('LinuxPlatform volumes with the $name mounter', ({ mounter }) => {
  let root: string;
  let dataRoot: string;
  let targetPath: string;
  let logger: ReturnType<typeof recordingLogger>;
  let platform: LinuxPlatform;
  const volumeId = 'csi-0123abcd';

  beforeEach(async () => {
    root = await scratchDir();
    dataRoot = path.join(root, 'cert-base', 'mounts');
    const volumeDir = path.join(root, 'pods', 'uid-1', 'volumes', 'kubernetes.io~csi', 'tls');
    await mkdir(volumeDir, { recursive: true });
    targetPath = path.join(volumeDir, 'mount');
    logger = recordingLogger();
    platform = new LinuxPlatform({ dataRoot, logger, mounter });
  });
  afterEach(() => cleanScratch(root));

  it.skipIf(needsRoot)(
    'publishes a size-limited tmpfs read-only, serves files, and removes it all',
    async () => {
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 1 << 20, fsGroup: 1234 });
      const mounts = readMountInfo();
      const data = findMount(mounts, path.join(dataRoot, volumeId));
      const target = findMount(mounts, targetPath);
      expect(data).toMatchObject({ fsType: 'tmpfs', source: TMPFS_SOURCE });
      expect(data && superOption(data, 'size')).toBe('1024k');
      expect(data && superOption(data, 'mode')).toBe('755');
      expect(data && superOption(data, 'gid')).toBe('1234');
      expect(data?.mountOptions).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
      expect(target).toMatchObject({ major: data?.major, minor: data?.minor, root: '/', fsType: 'tmpfs' });
      expect(target?.mountOptions).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
      expect(await platform.isPublished({ volumeId, targetPath })).toBe(false); // no file set yet

      await platform.writeFiles(volumeId, files('t1'));
      expect(await platform.isPublished({ volumeId, targetPath })).toBe(true);
      expect(decode(await platform.readFile(volumeId, 'tls.key'))).toBe('key t1');
      expect(await platform.readFile(volumeId, 'missing.pem')).toBeUndefined();
      expect(await readFile(path.join(targetPath, 'tls.crt'), 'utf8')).toBe('cert t1');
      await expect(writeFile(path.join(targetPath, 'x'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
      await expect(writeFile(path.join(targetPath, 'tls.crt'), 'x')).rejects.toMatchObject({ code: 'EROFS' });

      await platform.removeVolume({ volumeId, targetPath });
      expect(await mountsBelow(root)).toEqual([]);
      await expect(stat(targetPath)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await readdir(dataRoot)).toEqual([]);
      expect(await platform.isPublished({ volumeId, targetPath })).toBe(false);
      expect(await platform.readFile(volumeId, 'tls.key')).toBeUndefined();
      expect(logger.lines.join('\n')).not.toContain('t1');
    },
  );

  it.skipIf(needsRoot)('is idempotent: a second create mounts nothing more, removes may repeat', async () => {
    const req = { volumeId, targetPath, sizeBytes: 65536 };
    await platform.createVolume(req);
    await platform.writeFiles(volumeId, files('t1'));
    const before = await mountsBelow(root);
    await platform.createVolume(req);
    await Promise.all([platform.createVolume(req), platform.createVolume(req)]);
    expect(await mountsBelow(root)).toEqual(before);
    expect(before).toHaveLength(2);
    expect(decode(await platform.readFile(volumeId, 'tls.crt'))).toBe('cert t1');
    await platform.removeVolume(req);
    await platform.removeVolume(req);
    await platform.removeVolume({ volumeId: 'never-created', targetPath: path.join(root, 'nowhere') });
    expect(await mountsBelow(root)).toEqual([]);
  });

  /**
   * Runs `cmd` as uid 65534 (nobody) with the given supplementary groups, the way a non-root
   * container user reads its volume; resolves to the exit code.
   */
  async function asNobody(groups: number[], cmd: string[]): Promise<number> {
    const args = ['--reuid', '65534', '--regid', '65534'];
    args.push(...(groups.length ? ['--groups', groups.join(',')] : ['--clear-groups']), '--', ...cmd);
    return run('setpriv', args).then(
      () => 0,
      (e: { code?: number }) => e.code ?? -1,
    );
  }

  /** What uid 65534 (with `groups`) can do in the volume: list it, read each file. */
  async function nonRootAccess(groups: number[]) {
    // The container sees only the bind mount; here its parents must let the test user through.
    await chmod(root, 0o711);
    return {
      list: await asNobody(groups, ['ls', targetPath]),
      crt: await asNobody(groups, ['cat', path.join(targetPath, 'tls.crt')]),
      ca: await asNobody(groups, ['cat', path.join(targetPath, 'ca.crt')]),
      key: await asNobody(groups, ['cat', path.join(targetPath, 'tls.key')]),
    };
  }

  const podFiles = (fsGroup: number | undefined): VolumeFile[] => [
    { name: 'tls.crt', data: text('cert'), mode: 0o444 },
    { name: 'tls.key', data: text('key'), mode: fsGroup === undefined ? 0o400 : 0o440 },
    { name: 'ca.crt', data: text('ca'), mode: 0o444 },
  ];

  it.skipIf(needsRoot)(
    'without an fsGroup any user lists the volume and reads tls.crt and ca.crt, only root tls.key',
    async () => {
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
      await platform.writeFiles(volumeId, podFiles(undefined));
      const st = await stat(targetPath);
      expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ mode: 0o755, uid: 0, gid: 0 });
      expect(await nonRootAccess([])).toEqual({ list: 0, crt: 0, ca: 0, key: 1 });
      expect(await nonRootAccess([2000])).toMatchObject({ key: 1 });
    },
  );

  it.skipIf(needsRoot)(
    "with an fsGroup any user reads tls.crt and ca.crt, tls.key only the fsGroup's members",
    async () => {
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536, fsGroup: 2000 });
      await platform.writeFiles(volumeId, podFiles(2000));
      const st = await stat(targetPath);
      expect({ mode: st.mode & 0o7777, gid: st.gid }).toEqual({ mode: 0o755, gid: 2000 });
      expect(await nonRootAccess([])).toEqual({ list: 0, crt: 0, ca: 0, key: 1 });
      expect(await nonRootAccess([2000])).toEqual({ list: 0, crt: 0, ca: 0, key: 0 });
    },
  );

  it.skipIf(needsRoot)('a volume published with an older mode is opened up by its next write', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
    await chmod(path.join(dataRoot, volumeId), 0o700);
    await platform.writeFiles(volumeId, podFiles(undefined));
    expect(await nonRootAccess([])).toEqual({ list: 0, crt: 0, ca: 0, key: 1 });
  });

  it.skipIf(needsRoot)('rolls back when the bind fails (target is a regular file)', async () => {
    await writeFile(targetPath, 'not a directory');
    const err = await platform
      .createVolume({ volumeId, targetPath, sizeBytes: 65536 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'internal', message: expect.stringContaining(targetPath) });
    expect(await mountsBelow(root)).toEqual([]);
    expect(await readdir(dataRoot)).toEqual([]);
    expect(await readFile(targetPath, 'utf8')).toBe('not a directory');
  });

  it.skipIf(needsRoot)('rolls back the target dir it created when the bind fails', async () => {
    const failing: Mounter = {
      name: 'failing',
      mountTmpfs: (target, opts) => mounter.mountTmpfs(target, opts),
      unmount: (target, lazy) => mounter.unmount(target, lazy),
      bindReadOnly: () => Promise.reject(new Error('bind refused')),
    };
    const p = new LinuxPlatform({ dataRoot, mounter: failing });
    await expect(p.createVolume({ volumeId, targetPath, sizeBytes: 65536 })).rejects.toThrow(/bind refused/);
    expect(await mountsBelow(root)).toEqual([]);
    await expect(stat(targetPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dataRoot)).toEqual([]);
  });

  it.skipIf(needsRoot)(
    'refuses a target that is a mount point of something else, and leaves it',
    async () => {
      await mkdir(targetPath);
      await run('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'someone-else', targetPath]);
      const err = await platform
        .createVolume({ volumeId, targetPath, sizeBytes: 65536 })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        kind: 'failed-precondition',
        message: expect.stringContaining('someone-else'),
      });
      expect(await mountsBelow(root)).toEqual([targetPath]);
      expect(await readdir(dataRoot)).toEqual([]);
      await expect(platform.removeVolume({ volumeId, targetPath })).rejects.toMatchObject({
        kind: 'failed-precondition',
      });
      expect(await mountsBelow(root)).toEqual([targetPath]);
    },
  );

  // A driver restarted in a new mount namespace (a DaemonSet rollout) sees the host's copy of its
  // binds, which never carried the read-only remount: the volume is still ours and published, and a
  // republish must neither remount it nor swap the tmpfs the running container is bound to.
  it.skipIf(needsRoot)(
    'keeps a writable bind of its own tmpfs as published (a restart in a new mount namespace)',
    async () => {
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
      await mounter.unmount(targetPath, false);
      await run('mount', ['--bind', path.join(dataRoot, volumeId), targetPath]);
      await platform.writeFiles(volumeId, files('t1'));
      const before = await mountsBelow(root);
      expect(await platform.isPublished({ volumeId, targetPath })).toBe(true);
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
      expect(await platform.isPublished({ volumeId, targetPath })).toBe(true);
      expect(await mountsBelow(root)).toEqual(before);
      expect(await readFile(path.join(targetPath, 'tls.crt'), 'utf8')).toBe('cert t1');
    },
  );

  it.skipIf(needsRoot)('matches mounts through a symlinked target parent', async () => {
    const real = path.join(root, 'real-kubelet');
    await mkdir(real);
    const linked = path.join(root, 'kubelet-link');
    await symlink(real, linked);
    const loc = { volumeId, targetPath: path.join(linked, 'mount') };
    await platform.createVolume({ ...loc, sizeBytes: 65536 });
    await platform.createVolume({ ...loc, sizeBytes: 65536 });
    await platform.writeFiles(volumeId, files('t1'));
    expect(await platform.isPublished(loc)).toBe(true);
    expect(await mountsBelow(root)).toHaveLength(2);
    await platform.removeVolume(loc);
    expect(await mountsBelow(root)).toEqual([]);
  });

  it.skipIf(needsRoot)('detaches a busy target lazily on remove', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
    await platform.writeFiles(volumeId, files('t1'));
    const handle = await open(path.join(targetPath, 'tls.crt'));
    try {
      await platform.removeVolume({ volumeId, targetPath });
      expect(await mountsBelow(root)).toEqual([]);
      expect((await handle.readFile()).toString()).toBe('cert t1'); // the open file lives on until closed
      expect(logger.lines.some((l) => l.includes('detaching lazily'))).toBe(true);
    } finally {
      await handle.close();
    }
  });

  // Removal of a volume this process mounted decides from stat(2), not the mount table: these are
  // the cases where that shortcut must hand over to the table (or must not be fooled).
  it.skipIf(needsRoot)('remove refuses a foreign mount stacked on its own bind, and leaves it', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'someone-else', targetPath]);
    await expect(platform.removeVolume({ volumeId, targetPath })).rejects.toMatchObject({
      kind: 'failed-precondition',
      message: expect.stringContaining('someone-else'),
    });
    expect(findMount(readMountInfo(), targetPath)).toMatchObject({ source: 'someone-else' });
    await run('umount', [targetPath]);
    await platform.removeVolume({ volumeId, targetPath });
    expect(await mountsBelow(root)).toEqual([]);
  });

  it.skipIf(needsRoot)(
    'remove refuses a bind of the same disk at the target (same device as its parent)',
    async () => {
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
      await mounter.unmount(targetPath, false);
      const elsewhere = path.join(root, 'elsewhere');
      await mkdir(elsewhere);
      await run('mount', ['--bind', elsewhere, targetPath]);
      await expect(platform.removeVolume({ volumeId, targetPath })).rejects.toMatchObject({
        kind: 'failed-precondition',
      });
      expect(await mountsBelow(root)).toContain(targetPath);
      await run('umount', [targetPath]);
      await platform.removeVolume({ volumeId, targetPath });
      expect(await mountsBelow(root)).toEqual([]);
    },
  );

  it.skipIf(needsRoot)('remove takes every stacked bind of its own tmpfs off the target', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
    await run('mount', ['--bind', path.join(dataRoot, volumeId), targetPath]);
    await run('mount', ['--bind', path.join(dataRoot, volumeId), targetPath]);
    expect(await mountsBelow(root)).toHaveLength(4);
    await platform.removeVolume({ volumeId, targetPath });
    expect(await mountsBelow(root)).toEqual([]);
    expect(await readdir(dataRoot)).toEqual([]);
  });

  it.skipIf(needsRoot)('a new instance (a restarted driver) removes volumes it did not mount', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
    await platform.writeFiles(volumeId, files('t1'));
    const restarted = new LinuxPlatform({ dataRoot, mounter });
    await restarted.removeVolume({ volumeId, targetPath });
    expect(await mountsBelow(root)).toEqual([]);
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
    expect(await restarted.isPublished({ volumeId, targetPath })).toBe(false); // no file set yet
    await restarted.removeVolume({ volumeId, targetPath });
    expect(await mountsBelow(root)).toEqual([]);
    await expect(stat(targetPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.skipIf(needsRoot)(
    'create with a target dir that already exists checks the table and publishes',
    async () => {
      await mkdir(targetPath);
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 65536 });
      await platform.writeFiles(volumeId, files('t1'));
      expect(await platform.isPublished({ volumeId, targetPath })).toBe(true);
      await platform.removeVolume({ volumeId, targetPath });
      expect(await mountsBelow(root)).toEqual([]);
    },
  );

  it.skipIf(needsRoot)('writeFiles on a volume without a tmpfs is not-found and writes nothing', async () => {
    await mkdir(path.join(dataRoot, volumeId), { recursive: true });
    const err = await platform.writeFiles(volumeId, files('t1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'not-found', message: expect.stringContaining(volumeId) });
    expect(await readdir(path.join(dataRoot, volumeId))).toEqual([]);
  });
});

describe('LinuxPlatform argument checks', () => {
  const platform = new LinuxPlatform({ dataRoot: '/tmp/csi-linux-test-unused/mounts' });
  const targetPath = '/tmp/csi-linux-test-unused/target';

  it.each([
    { name: 'zero size (unlimited tmpfs)', req: { volumeId: 'v', targetPath, sizeBytes: 0 } },
    { name: 'fractional size', req: { volumeId: 'v', targetPath, sizeBytes: 1.5 } },
    { name: 'negative fsGroup', req: { volumeId: 'v', targetPath, sizeBytes: 4096, fsGroup: -1 } },
    { name: 'volume id with a slash', req: { volumeId: '../etc', targetPath, sizeBytes: 4096 } },
    { name: 'dot volume id', req: { volumeId: '.v', targetPath, sizeBytes: 4096 } },
    { name: 'relative target', req: { volumeId: 'v', targetPath: 'target', sizeBytes: 4096 } },
    { name: 'unnormalized target', req: { volumeId: 'v', targetPath: '/tmp/../etc', sizeBytes: 4096 } },
  ])('createVolume rejects $name as invalid-argument', async ({ req }) => {
    await expect(platform.createVolume(req)).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it.each([
    { name: 'reserved name', files: [{ name: '..data', data: text('x'), mode: 0o440 }] },
    { name: 'path in name', files: [{ name: 'a/b', data: text('x'), mode: 0o440 }] },
    { name: 'duplicate name', files: [...files('a').slice(0, 1), ...files('b').slice(0, 1)] },
  ])('writeFiles rejects $name as invalid-argument', async ({ files }) => {
    await expect(platform.writeFiles('v', files)).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it('rejects a relative data root', () => {
    expect(() => new LinuxPlatform({ dataRoot: 'mounts' })).toThrow(/absolute/);
  });
});
