/**
 * Linux path and name rules. Each check returns the reason a value is unacceptable, or undefined
 * when it is fine, so the server can put the reason into an INVALID_ARGUMENT message as is.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { isErrno } from './errors.js';

/** PATH_MAX counts the terminating NUL, so a usable path has at most 4095 bytes. */
export const MAX_PATH_BYTES = 4095;
/** NAME_MAX: the longest single path component. */
export const MAX_NAME_BYTES = 255;

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Why `targetPath` cannot be a mount target: it must be absolute and normalized (no `.`/`..`
 * segments, no `//`, no trailing `/`), free of NUL, not `/` itself, with components of at most 255
 * bytes and at most 4095 bytes in all.
 */
export function checkTargetPath(targetPath: string): string | undefined {
  if (targetPath === '') return 'must not be empty';
  if (targetPath.includes('\0')) return 'must not contain a NUL byte';
  if (!targetPath.startsWith('/')) return `must be an absolute path, got "${targetPath}"`;
  if (targetPath === '/') return 'must not be the root directory';
  if (byteLength(targetPath) > MAX_PATH_BYTES) return `must be at most ${MAX_PATH_BYTES} bytes long`;
  if (targetPath.includes('//')) return `must not contain "//": "${targetPath}"`;
  if (targetPath.endsWith('/')) return `must not end with "/": "${targetPath}"`;
  for (const segment of targetPath.slice(1).split('/')) {
    if (segment === '.' || segment === '..') return `must be normalized, without "${segment}" segments`;
    if (byteLength(segment) > MAX_NAME_BYTES) return `has a component longer than ${MAX_NAME_BYTES} bytes`;
  }
  if (path.posix.normalize(targetPath) !== targetPath) return `must be normalized: "${targetPath}"`;
  return undefined;
}

/**
 * Why `name` cannot be a file name in a volume: it must be one path component of 1–255 bytes
 * without `/` or NUL, and must not start with `..` (reserved for `..data` and the timestamped
 * directories of the atomic writer), which also rules out `.` and `..`.
 */
export function checkFileName(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.includes('\0')) return 'must not contain a NUL byte';
  if (name.includes('/')) return `must not contain "/": "${name}"`;
  if (name === '.' || name === '..') return `must not be "${name}"`;
  if (name.startsWith('..')) return `must not start with "..", which is reserved: "${name}"`;
  if (byteLength(name) > MAX_NAME_BYTES) return `must be at most ${MAX_NAME_BYTES} bytes long`;
  return undefined;
}

/**
 * Why `volumeId` cannot name a volume's data directory: it becomes one path component under the
 * data root, so it follows the file-name rules and must not start with `.` either.
 */
export function checkVolumeId(volumeId: string): string | undefined {
  const reason = checkFileName(volumeId);
  if (reason !== undefined) return reason;
  if (volumeId.startsWith('.')) return `must not start with ".": "${volumeId}"`;
  return undefined;
}

/**
 * The longest unix socket path: `sun_path` holds 108 bytes including the terminating NUL.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Turns `unix:///abs/path.sock` or a bare `/abs/path.sock` into the socket's absolute path, or
 * returns a reason string when the endpoint is not an absolute unix socket path.
 */
export function parseUnixEndpoint(endpoint: string): { path: string } | { reason: string } {
  let socketPath = endpoint;
  if (endpoint.startsWith('unix://')) socketPath = endpoint.slice('unix://'.length);
  else if (endpoint.includes('://'))
    return { reason: `only unix:// endpoints are supported, got "${endpoint}"` };
  const reason = checkTargetPath(socketPath);
  if (reason !== undefined) return { reason: `socket path ${reason}` };
  if (byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    return { reason: `socket path must be at most ${MAX_SOCKET_PATH_BYTES} bytes long: "${socketPath}"` };
  }
  return { path: socketPath };
}

/**
 * `p` with symlinks resolved as far as it exists (the mount table lists canonical paths): the
 * missing tail is appended unresolved. `p` must be absolute. Synchronous (realpath(3)): it runs on
 * every publish and unpublish, and resolving a few cached directory entries takes microseconds,
 * less than a trip through libuv's thread pool (ADR 14).
 *
 * One walk in the usual cases: an existing `p` (an unpublish's target) is resolved as a whole; a
 * missing one (a publish's target, which the driver creates) is found missing with lstat(2) and has
 * its parent resolved, rather than a realpath of `p` that fails (a thrown ENOENT) followed by the
 * parent's. A last component that is a dangling symlink is resolved as before.
 */
export function canonicalPath(p: string): string {
  const parent = path.dirname(p);
  const name = path.basename(p);
  // An existing leaf (a dangling symlink too) and the odd forms take the definition. lstat(2) throws
  // what realpath(3) would for an unreachable path (ENOTDIR, ELOOP).
  if (parent === p || name === '.' || name === '..' || p.endsWith('/')) return canonicalPathByWalks(p);
  if (lstatSync(p, { throwIfNoEntry: false }) !== undefined) return canonicalPathByWalks(p);
  // Missing: the parent resolved, the name appended.
  let dir: string;
  try {
    dir = realpathSync.native(parent);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    dir = canonicalPath(parent);
  }
  return path.join(dir, name);
}

/** `canonicalPath` by realpath(3) of `p`, then of each parent while they are missing. */
function canonicalPathByWalks(p: string): string {
  try {
    return realpathSync.native(p);
  } catch (err) {
    const parent = path.dirname(p);
    if (parent === p || !isErrno(err, 'ENOENT')) throw err;
    return path.join(canonicalPath(parent), path.basename(p));
  }
}
