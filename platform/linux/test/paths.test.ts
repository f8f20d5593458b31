import { describe, expect, it } from 'vitest';
import { checkFileName, checkTargetPath, checkVolumeId, parseUnixEndpoint } from '../src/index.js';

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
