import { describe, expect, it } from 'vitest';
import {
  checkFileName,
  checkPublishTarget,
  checkTargetPath,
  normalizeTargetPath,
  sameWindowsName,
} from '../src/index.js';

const kubeletPath = 'c:\\var\\lib\\kubelet\\pods\\3f1c\\volumes\\kubernetes.io~csi\\tls\\mount';
const longOk = `\\\\?\\C:\\${'a'.repeat(200)}\\${'b'.repeat(200)}`;

describe('checkTargetPath', () => {
  it.each([
    { name: 'kubelet target path', path: kubeletPath },
    { name: 'upper-case drive', path: 'D:\\data\\vol' },
    { name: 'forward slashes', path: 'C:/var/lib/kubelet/x' },
    { name: 'trailing separator', path: 'C:\\var\\x\\' },
    { name: 'long path with \\\\?\\', path: longOk },
    { name: 'dots inside a name', path: 'C:\\a\\tls.v1.d' },
    { name: 'reserved stem only as a prefix', path: 'C:\\CONSOLE\\COM10\\LPT0\\auxiliary' },
    { name: '259 characters (MAX_PATH - 1)', path: `C:\\${'x'.repeat(128)}\\${'y'.repeat(127)}` },
  ])('accepts $name', ({ path }) => {
    expect(checkTargetPath(path)).toBeUndefined();
  });

  it.each([
    { name: 'empty', path: '', want: /empty/ },
    { name: 'POSIX path', path: '/var/lib/kubelet/pods/x', want: /drive letter/ },
    { name: 'relative path', path: 'var\\lib', want: /drive letter/ },
    { name: 'drive-relative path', path: 'C:var\\lib', want: /drive letter/ },
    { name: 'drive root', path: 'C:\\', want: /drive root/ },
    { name: 'UNC path', path: '\\\\server\\share\\x', want: /UNC/ },
    { name: 'device path', path: '\\\\.\\C:\\x', want: /UNC or device/ },
    { name: 'traversal', path: 'C:\\var\\..\\Windows', want: /'\.\.' segments/ },
    { name: 'dot segment', path: 'C:\\var\\.\\x', want: /'\.' segments/ },
    { name: 'empty segment', path: 'C:\\var\\\\x', want: /empty path segment/ },
    { name: 'colon (alternate data stream)', path: 'C:\\var\\x:stream', want: /':'/ },
    ...['<', '>', '"', '|', '?', '*'].map((c) => ({
      name: `forbidden ${c}`,
      path: `C:\\a${c}b`,
      want: /forbids/,
    })),
    { name: 'control character', path: 'C:\\a\u0001b', want: /control character/ },
    { name: 'CON', path: 'C:\\var\\CON', want: /reserved/ },
    { name: 'con.txt (extension)', path: 'C:\\var\\con.txt', want: /reserved/ },
    { name: 'NUL.tar.gz', path: 'C:\\NUL.tar.gz\\x', want: /reserved/ },
    { name: 'COM1', path: 'C:\\x\\COM1', want: /reserved/ },
    { name: 'lpt9.log', path: 'C:\\x\\lpt9.log', want: /reserved/ },
    { name: 'COM superscript one', path: 'C:\\x\\COM\u00b9', want: /reserved/ },
    { name: 'CONIN$', path: 'C:\\x\\CONIN$', want: /reserved/ },
    { name: 'AUX with trailing space before the extension', path: 'C:\\x\\AUX .txt', want: /reserved/ },
    { name: 'trailing dot', path: 'C:\\var\\x.', want: /dot or space/ },
    { name: 'trailing space', path: 'C:\\var\\x ', want: /dot or space/ },
    { name: 'MAX_PATH exceeded', path: `C:\\${'x'.repeat(257)}`, want: /MAX_PATH/ },
    { name: 'segment over 255', path: `\\\\?\\C:\\${'x'.repeat(256)}`, want: /longer than 255/ },
    { name: 'long path over 32767', path: `\\\\?\\C:${'\\abcdefgh'.repeat(3700)}`, want: /more than 32767/ },
    { name: 'slash in a long path', path: '\\\\?\\C:\\a/b', want: /not a separator/ },
    { name: 'long path without drive', path: '\\\\?\\UNC\\server\\share', want: /drive letter/ },
  ])('rejects $name', ({ path, want }) => {
    expect(checkTargetPath(path)).toMatch(want);
  });
});

describe('checkFileName', () => {
  it.each(['tls.crt', 'tls.key', 'ca.crt', 'keystore.p12', '.hidden', 'a b.pem'])('accepts %s', (name) => {
    expect(checkFileName(name)).toBeUndefined();
  });

  it.each([
    { name: '', want: /empty/ },
    { name: 'a\\b', want: /separator/ },
    { name: 'a/b', want: /separator/ },
    { name: '..', want: /segments/ },
    { name: 'tls:crt', want: /':'/ },
    { name: 'tls?.crt', want: /'\?'/ },
    { name: 'PRN', want: /reserved/ },
    { name: 'aux.pem', want: /reserved/ },
    { name: 'Lpt3.key', want: /reserved/ },
    { name: 'tls.crt.', want: /dot or space/ },
    { name: 'tls.crt ', want: /dot or space/ },
    { name: 'x'.repeat(256), want: /longer than 255/ },
    { name: '.csi-cert-driver.json', want: /driver's own/ },
    { name: '.CSI-CERT-DRIVER.JSON', want: /driver's own/ },
    { name: '.tls.key.tmp-0a1b2c', want: /driver's own/ },
  ])('rejects "$name"', ({ name, want }) => {
    expect(checkFileName(name)).toMatch(want);
  });
});

describe('sameWindowsName', () => {
  it.each([
    { a: 'tls.crt', b: 'TLS.CRT', same: true },
    { a: 'Ca.Crt', b: 'ca.crt', same: true },
    { a: 'élan.pem', b: 'ÉLAN.PEM', same: true },
    { a: 'tls.crt', b: 'tls.key', same: false },
    { a: 'straße', b: 'STRASSE', same: false },
    { a: 'a', b: 'a ', same: false },
  ])('$a vs $b -> $same', ({ a, b, same }) => {
    expect(sameWindowsName(a, b)).toBe(same);
  });
});

describe('normalizeTargetPath', () => {
  it.each([
    { path: 'C:/var/lib/x/', want: 'C:\\var\\lib\\x' },
    { path: 'C:\\var\\lib\\x', want: 'C:\\var\\lib\\x' },
    { path: '\\\\?\\C:\\var\\x\\', want: '\\\\?\\C:\\var\\x' },
  ])('$path -> $want', ({ path, want }) => {
    expect(normalizeTargetPath(path)).toBe(want);
  });
});

describe('checkPublishTarget', () => {
  const uid = '1f0c2d6e-0000-4000-8000-000000000001';
  const o = { kubeletRoot: 'C:\\var\\lib\\kubelet', reserved: ['C:\\csi-certs'] };
  const target = `C:\\var\\lib\\kubelet\\pods\\${uid}\\volumes\\kubernetes.io~csi\\tls\\mount`;

  it('accepts kubelet-shaped targets, in any case NTFS treats as equal', () => {
    expect(checkPublishTarget(target, uid, o)).toBeUndefined();
    expect(checkPublishTarget(target.toUpperCase(), uid, o)).toBeUndefined();
    expect(checkPublishTarget(`\\\\?\\${target}`, uid, o)).toBeUndefined();
  });

  it.each([
    { name: 'outside the root', path: 'C:\\Windows\\System32', want: /below the kubelet root/ },
    {
      name: 'a sibling with the root as prefix',
      path: 'C:\\var\\lib\\kubelet2\\x',
      want: /below the kubelet root/,
    },
    {
      name: 'not kubelet shaped',
      path: `C:\\var\\lib\\kubelet\\pods\\${uid}\\mount`,
      want: /kubelet's shape/,
    },
    { name: "another pod's directory", path: target.replace(uid, 'other'), want: /volume's pod/ },
    { name: 'inside CERT_BASE_PATH', path: 'C:\\csi-certs\\mounts\\x', want: /must not be inside/ },
    { name: 'bad syntax', path: 'relative\\x', want: /absolute/ },
  ])('refuses $name', ({ path, want }) => {
    expect(checkPublishTarget(path, uid, o)).toMatch(want);
  });
});
