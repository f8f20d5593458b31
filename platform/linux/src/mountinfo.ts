/**
 * A parser for `/proc/<pid>/mountinfo` (proc(5)): one mount per line,
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *
 * Paths and sources are unescaped (the kernel writes space, tab, newline and backslash as `\040`,
 * `\011`, `\012`, `\134`). Exported for tests and the end-to-end suites.
 */
import { readFileSync } from 'node:fs';

export interface MountInfo {
  mountId: number;
  parentId: number;
  /** Device of the filesystem: equal for a mount and its bind mounts. */
  major: number;
  minor: number;
  /** Path inside the filesystem that is mounted: `/` unless this is a bind mount of a subdirectory. */
  root: string;
  mountPoint: string;
  /** Per-mount options (`ro`, `nosuid`, …). */
  mountOptions: string[];
  /** Propagation tags such as `shared:1` or `master:2`. */
  optionalFields: string[];
  fsType: string;
  source: string;
  /** Per-superblock options (`size=64k`, `mode=750`, …). */
  superOptions: string[];
}

/** Replaces the kernel's three-digit octal escapes (`\040` → space). */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses one line; throws on a line that does not have the mountinfo shape. */
export function parseMountInfoLine(line: string): MountInfo {
  const fields = line.split(' ');
  const separator = fields.indexOf('-', 6);
  const [id, parent, device, root, mountPoint, options] = fields;
  const [fsType, source, superOptions] = fields.slice(separator + 1);
  const [major, minor] = (device ?? '').split(':').map(Number);
  if (
    separator < 0 ||
    root === undefined ||
    mountPoint === undefined ||
    options === undefined ||
    fsType === undefined ||
    source === undefined ||
    superOptions === undefined ||
    !Number.isInteger(major) ||
    !Number.isInteger(minor)
  ) {
    throw new Error(`malformed mountinfo line: "${line}"`);
  }
  return {
    mountId: Number(id),
    parentId: Number(parent),
    major: major as number,
    minor: minor as number,
    root: unescapeMountField(root),
    mountPoint: unescapeMountField(mountPoint),
    mountOptions: options.split(','),
    optionalFields: fields.slice(6, separator),
    fsType: unescapeMountField(fsType),
    source: unescapeMountField(source),
    superOptions: superOptions.split(','),
  };
}

/** Parses a whole mountinfo text; blank lines are skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseMountInfoLine);
}

/**
 * Reads and parses the mount table of this process's mount namespace. Synchronous: procfs never
 * waits for a disk, and a direct read is several times cheaper than a thread-pool round trip.
 */
export function readMountInfo(file = '/proc/self/mountinfo'): MountInfo[] {
  return parseMountInfo(readFileSync(file, 'utf8'));
}

/**
 * The mount visible at `mountPoint`: when mounts are stacked on one path the last (topmost) wins;
 * undefined when nothing is mounted there. `mountPoint` must be canonical (no symlinks).
 */
export function findMount(mounts: readonly MountInfo[], mountPoint: string): MountInfo | undefined {
  return mounts.findLast((m) => m.mountPoint === mountPoint);
}

/** The value of a `key=value` super option such as `size`, or undefined when absent. */
export function superOption(mount: MountInfo, key: string): string | undefined {
  const prefix = `${key}=`;
  return mount.superOptions.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}

/** True when both mounts show the same filesystem (same device and same root inside it). */
export function sameFilesystem(a: MountInfo, b: MountInfo): boolean {
  return a.major === b.major && a.minor === b.minor && a.root === b.root;
}
