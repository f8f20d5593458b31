import { win32 } from 'node:path';

/**
 * Windows path and file-name rules, checked with `path.win32` semantics whatever the host OS, so
 * the same tables run on Linux CI. Every check returns why a value is unacceptable, or undefined.
 * Sources: Win32 "Naming Files, Paths, and Namespaces" (reserved names, forbidden characters,
 * MAX_PATH, the `\\?\` prefix).
 */

/** MAX_PATH is 260 including the terminating NUL, so a plain path holds at most 259 characters. */
export const MAX_PATH_CHARS = 259;
/** The `\\?\` prefix lifts the limit to the NT maximum of 32,767 characters. */
export const MAX_LONG_PATH_CHARS = 32_767;
/** NTFS limit for one path component. */
export const MAX_SEGMENT_CHARS = 255;

const LONG_PREFIX = '\\\\?\\';
const FORBIDDEN_CHARS = /[<>:"|?*]/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f]/;
/** Device names, reserved with or without an extension (`CON`, `con.txt`, `COM¹.log`). */
const RESERVED_NAMES = /^(CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|COM[1-9¹²³]|LPT[1-9¹²³])$/i;

/** Files the adapter keeps next to a volume's files; a volume may not ship files of these names. */
export const MANIFEST_NAME = '.csi-cert-driver.json';

/** True for `.NAME.tmp-HEX`, the temporary sibling a file is staged in before it replaces NAME. */
export function isTempName(name: string): boolean {
  return /^\..+\.tmp-[0-9a-f]+$/i.test(name);
}

/** Why `segment` cannot be one component of a Windows path, or undefined when it can. */
export function checkSegment(segment: string): string | undefined {
  if (segment.length === 0) return 'empty path segment';
  if (segment === '.' || segment === '..') return `'${segment}' segments are not allowed`;
  if (segment.length > MAX_SEGMENT_CHARS) return `segment longer than ${MAX_SEGMENT_CHARS} characters`;
  if (CONTROL_CHARS.test(segment)) return `'${printable(segment)}' contains a control character`;
  const bad = FORBIDDEN_CHARS.exec(segment);
  if (bad) return `'${segment}' contains the character '${bad[0]}', which Windows forbids in names`;
  if (/[. ]$/.test(segment)) return `'${segment}' ends with a dot or space, which Windows strips`;
  const stem = segment.split('.')[0] ?? segment;
  if (RESERVED_NAMES.test(stem.trimEnd())) return `'${segment}' is a reserved Windows device name`;
  return undefined;
}

/**
 * Why `targetPath` cannot be a volume directory on Windows: it must be absolute with a drive letter
 * (`C:\...`, or `\\?\C:\...` for long paths), free of `..`, forbidden characters and device names,
 * below the drive root, and within MAX_PATH (32,767 characters with `\\?\`).
 */
export function checkTargetPath(targetPath: string): string | undefined {
  if (typeof targetPath !== 'string' || targetPath.length === 0) return 'target path is empty';
  const long = targetPath.startsWith(LONG_PREFIX);
  const rest = long ? targetPath.slice(LONG_PREFIX.length) : targetPath;
  if (long && rest.includes('/')) return `'/' is not a separator in a \\\\?\\ path`;
  const limit = long ? MAX_LONG_PATH_CHARS : MAX_PATH_CHARS;
  if (targetPath.length > limit) {
    return long
      ? `path is ${targetPath.length} characters, more than ${limit}`
      : `path is ${targetPath.length} characters, more than MAX_PATH (${limit}); use a \\\\?\\ path`;
  }
  if (!/^[A-Za-z]:[\\/]/.test(rest)) {
    if (/^[\\/]{2}/.test(rest))
      return `'${targetPath}' is a UNC or device path; a local drive path is required`;
    return `'${targetPath}' is not an absolute path with a drive letter (C:\\...)`;
  }
  const segments = rest.slice(3).split(/[\\/]/);
  if (segments.at(-1) === '') segments.pop();
  if (segments.length === 0) return `'${targetPath}' is a drive root; a directory below it is required`;
  for (const segment of segments) {
    const why = checkSegment(segment);
    if (why) return why;
  }
  return undefined;
}

/** Why `name` cannot be a file of a volume on Windows: the segment rules plus no separators. */
export function checkFileName(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'file name is empty';
  if (name.includes('\\') || name.includes('/')) return `'${name}' contains a path separator`;
  const why = checkSegment(name);
  if (why) return why;
  if (sameWindowsName(name, MANIFEST_NAME) || isTempName(name)) {
    return `'${name}' is reserved for the driver's own bookkeeping`;
  }
  return undefined;
}

/**
 * True when NTFS treats `a` and `b` as the same name: a case-insensitive comparison per UTF-16
 * code unit with simple (one-to-one) upper-casing, as NTFS's upcase table does ('ß' stays 'ß').
 */
export function sameWindowsName(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (upcase(a[i] ?? '') !== upcase(b[i] ?? '')) return false;
  }
  return true;
}

/** The Win32 form of a checked target path: separators normalised to `\`, a `\\?\` prefix kept. */
export function normalizeTargetPath(targetPath: string): string {
  if (targetPath.startsWith(LONG_PREFIX)) return targetPath.replace(/\\+$/, '');
  const normalized = win32.normalize(targetPath);
  return normalized.length > 3 ? normalized.replace(/\\+$/, '') : normalized;
}

function upcase(ch: string): string {
  const upper = ch.toUpperCase();
  return upper.length === 1 ? upper : ch;
}

function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Why a publish for the pod `podUid` must not use `targetPath`: the syntax of `checkTargetPath`, and
 * with a `kubeletRoot` (KUBELET_ROOT_DIR, e.g. `C:\var\lib\kubelet`) kubelet's shape below it,
 * `pods\<pod uid>\volumes\kubernetes.io~csi\<name>\mount`, in that pod's directory; never inside a
 * `reserved` directory (CERT_BASE_PATH). Names compare as NTFS does. The rest of the Linux rules
 * (a non-empty or foreign directory) is `createVolume`'s manifest check; reparse points are not
 * inspected (docs/windows.md).
 */
export function checkPublishTarget(
  targetPath: string,
  podUid: string,
  o: { kubeletRoot?: string | undefined; reserved?: readonly string[] | undefined },
): string | undefined {
  const syntax = checkTargetPath(targetPath);
  if (syntax !== undefined) return syntax;
  const target = normalizeTargetPath(targetPath);
  for (const r of o.reserved ?? [])
    if (insideWindows(target, normalizeTargetPath(r)) !== undefined)
      return `must not be inside ${r}, which holds the driver's own volumes and state`;
  if (o.kubeletRoot === undefined) return undefined;
  const rel = insideWindows(target, normalizeTargetPath(o.kubeletRoot));
  if (rel === undefined)
    return `must be below the kubelet root directory ${o.kubeletRoot} (KUBELET_ROOT_DIR), got '${targetPath}'`;
  const [pods, uid, volumes, plugin, name, mount, ...extra] = rel.split('\\');
  const is = (a: string | undefined, b: string): boolean => a !== undefined && sameWindowsName(a, b);
  if (
    !is(pods, 'pods') ||
    !is(volumes, 'volumes') ||
    !is(plugin, 'kubernetes.io~csi') ||
    !name ||
    !is(mount, 'mount') ||
    extra.length > 0
  )
    return `must have kubelet's shape ${o.kubeletRoot}\\pods\\<pod uid>\\volumes\\kubernetes.io~csi\\<volume name>\\mount, got '${targetPath}'`;
  if (!is(uid, podUid))
    return `must be in the directory of the volume's pod (uid "${podUid}"), got '${targetPath}'`;
  return undefined;
}

/** The part of `p` below `dir` ('' for `dir` itself), or undefined when `p` is not inside it. */
function insideWindows(long: string, longDir: string): string | undefined {
  const p = long.startsWith(LONG_PREFIX) ? long.slice(LONG_PREFIX.length) : long;
  const dir = longDir.startsWith(LONG_PREFIX) ? longDir.slice(LONG_PREFIX.length) : longDir;
  const base = dir.replace(/\\+$/, '');
  if (sameWindowsName(p, base)) return '';
  if (p.length > base.length + 1 && p[base.length] === '\\' && sameWindowsName(p.slice(0, base.length), base))
    return p.slice(base.length + 1);
  return undefined;
}
