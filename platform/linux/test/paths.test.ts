import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isErrno } from '../src/errors.js';
import { checkFileName, checkTargetPath, checkVolumeId, parseUnixEndpoint } from '../src/index.js';
import { canonicalPath } from '../src/paths.js';

describe('checkTargetPath', () => {
  it.each([
    {
      name: 'kubelet pod volume path',
      path: '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/tls/mount',
    },
    { name: 'spaces and unicode', path: '/tmp/a b/ünï' },
    { name: 'component of 255 bytes', path: `/tmp/${'a'.repeat(255)}` },
    { name: 'dot inside a name', path: '/tmp/.hidden/a..b' },
    { name: '4095 bytes in all', path: `/${'a/'.repeat(2046)}aa` },
  ])('accepts $name', ({ path }) => {
    expect(checkTargetPath(path)).toBeUndefined();
  });

  it.each([
    { name: 'empty', path: '', want: /empty/ },
    { name: 'relative', path: 'var/lib/x', want: /absolute/ },
    { name: 'root', path: '/', want: /root directory/ },
    { name: 'dot-dot segment', path: '/var/../etc', want: /normalized/ },
    { name: 'dot segment', path: '/var/./lib', want: /normalized/ },
    { name: 'trailing dot-dot', path: '/var/lib/..', want: /normalized/ },
    { name: 'double slash', path: '/var//lib', want: /\/\// },
    { name: 'trailing slash', path: '/var/lib/', want: /end with/ },
    { name: 'NUL byte', path: '/var/li\0b', want: /NUL/ },
    { name: 'component over 255 bytes', path: `/tmp/${'a'.repeat(256)}`, want: /component/ },
    { name: 'over 4095 bytes', path: `/${'a/'.repeat(2047)}ab`, want: /4095 bytes/ },
    { name: 'multi-byte over 4095 bytes', path: `/${'é/'.repeat(1400)}`.slice(0, -1), want: /4095 bytes/ },
  ])('rejects $name', ({ path, want }) => {
    expect(checkTargetPath(path)).toMatch(want);
  });
});

describe('checkFileName', () => {
  it.each(['tls.crt', 'tls.key', 'ca.crt', '.hidden', 'a..b', 'x'.repeat(255), 'ünïcode.pem'])(
    'accepts %j',
    (name) => {
      expect(checkFileName(name)).toBeUndefined();
    },
  );

  it.each([
    { name: '', want: /empty/ },
    { name: '.', want: /must not be "\."/ },
    { name: '..', want: /must not be "\.\."/ },
    { name: '..data', want: /reserved/ },
    { name: '..2024_01_01', want: /reserved/ },
    { name: 'a/b', want: /"\/"/ },
    { name: '/abs', want: /"\/"/ },
    { name: 'nu\0l', want: /NUL/ },
    { name: 'x'.repeat(256), want: /255 bytes/ },
    { name: 'é'.repeat(128), want: /255 bytes/ },
  ])('rejects $name', ({ name, want }) => {
    expect(checkFileName(name)).toMatch(want);
  });
});

describe('checkVolumeId', () => {
  it.each([
    { id: 'csi-0123abcd', want: undefined },
    { id: '.hidden', want: /must not start with "\."/ },
    { id: '../etc', want: /"\/"/ },
    { id: '..', want: /must not be/ },
  ])('$id', ({ id, want }) => {
    if (want === undefined) expect(checkVolumeId(id)).toBeUndefined();
    else expect(checkVolumeId(id)).toMatch(want);
  });
});

describe('parseUnixEndpoint', () => {
  it.each([
    { endpoint: 'unix:///csi/csi.sock', want: { path: '/csi/csi.sock' } },
    { endpoint: '/csi/csi.sock', want: { path: '/csi/csi.sock' } },
    { endpoint: `/${'s'.repeat(106)}`, want: { path: `/${'s'.repeat(106)}` } },
  ])('parses $endpoint', ({ endpoint, want }) => {
    expect(parseUnixEndpoint(endpoint)).toEqual(want);
  });

  it.each([
    { endpoint: 'tcp://127.0.0.1:10000', want: /only unix:\/\// },
    { endpoint: 'unix://csi.sock', want: /absolute/ },
    { endpoint: 'csi/csi.sock', want: /absolute/ },
    { endpoint: 'unix:///csi/../csi.sock', want: /normalized/ },
    { endpoint: `/${'s'.repeat(107)}`, want: /107 bytes/ },
  ])('rejects $endpoint', ({ endpoint, want }) => {
    const parsed = parseUnixEndpoint(endpoint);
    expect('reason' in parsed ? parsed.reason : undefined).toMatch(want);
  });
});

describe.skipIf(process.platform !== 'linux')('canonicalPath', () => {
  /** The definition: realpath(3) of `p`, else of each missing parent, the missing tail appended. */
  const byDefinition = (p: string): string => {
    try {
      return realpathSync.native(p);
    } catch (err) {
      const parent = path.dirname(p);
      if (parent === p || !isErrno(err, 'ENOENT')) throw err;
      return path.join(byDefinition(parent), path.basename(p));
    }
  };
  const outcome = (fn: () => string): string => {
    try {
      return fn();
    } catch (err) {
      return `error ${(err as NodeJS.ErrnoException).code}`;
    }
  };

  // root/real/dir/file, root/link -> real, root/real/dir/self -> . (loop-free), root/dangling -> missing,
  // root/loop -> loop, root/rel -> dir (relative, inside real), root/real/filelink -> dir/file
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'canonical-')));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'real', 'dir'), { recursive: true });
  writeFileSync(path.join(root, 'real', 'dir', 'file'), '');
  symlinkSync(path.join(root, 'real'), path.join(root, 'link'));
  symlinkSync(path.join(root, 'missing'), path.join(root, 'dangling'));
  symlinkSync(path.join(root, 'loop'), path.join(root, 'loop'));
  symlinkSync('real/dir', path.join(root, 'rel'));
  symlinkSync('dir/file', path.join(root, 'real', 'filelink'));
  const r = (...parts: string[]) => path.join(root, ...parts);

  it.each([
    { name: 'an existing directory', p: r('real/dir'), want: r('real/dir') },
    { name: 'an existing file', p: r('real/dir/file'), want: r('real/dir/file') },
    { name: 'a missing leaf (a publish target)', p: r('real/dir/mount'), want: r('real/dir/mount') },
    { name: 'two missing levels', p: r('real/new/mount'), want: r('real/new/mount') },
    { name: 'a missing leaf under a symlinked parent', p: r('link/dir/mount'), want: r('real/dir/mount') },
    { name: 'an existing leaf under a symlinked parent', p: r('link/dir'), want: r('real/dir') },
    { name: 'a symlink leaf to a directory', p: r('link'), want: r('real') },
    { name: 'a relative symlink leaf', p: r('rel'), want: r('real/dir') },
    { name: 'a symlink leaf to a file', p: r('real/filelink'), want: r('real/dir/file') },
    { name: 'a dangling symlink leaf, kept unresolved', p: r('dangling'), want: r('dangling') },
    { name: 'a missing leaf under a dangling symlink', p: r('dangling/mount'), want: r('dangling/mount') },
    { name: '".." after a symlinked directory', p: r('link/dir/..'), want: r('real') },
    { name: '"." after a symlinked directory', p: r('link/.'), want: r('real') },
    { name: 'a trailing slash on a directory symlink', p: `${r('link')}/`, want: r('real') },
    { name: 'a trailing slash on a file', p: `${r('real/dir/file')}/`, want: 'error ENOTDIR' },
    { name: 'a file as a parent', p: r('real/dir/file/mount'), want: 'error ENOTDIR' },
    { name: 'a symlink loop leaf', p: r('loop'), want: 'error ELOOP' },
    { name: 'under a symlink loop', p: r('loop/mount'), want: 'error ELOOP' },
    { name: 'the root directory', p: '/', want: '/' },
  ])('resolves $name as realpath would', ({ p, want }) => {
    expect(outcome(() => canonicalPath(p))).toBe(want);
    expect(outcome(() => byDefinition(p))).toBe(want);
  });
});
