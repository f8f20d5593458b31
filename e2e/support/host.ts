/**
 * What the host shows about a volume, read without the driver's help: the mount table
 * (/proc/self/mountinfo, the tests share the driver's mount namespace), file modes and owners, and
 * whether a write is refused.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMountInfo, type MountInfo } from '@csi-cert-driver/platform-linux';

export type { MountInfo };

/** Every mount whose mount point is exactly `path` (stacked mounts appear more than once). */
export function mountsAt(path: string): MountInfo[] {
  return readMountInfo().filter((m) => m.mountPoint === path);
}

/** Every mount at `dir` or below it, in mount-table order. */
export function mountsUnder(dir: string): MountInfo[] {
  return readMountInfo().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));
}

/** Lazily unmounts everything at or below `dir`, deepest (newest) first; returns what it unmounted. */
export async function unmountAllUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (const m of mountsUnder(dir).reverse()) {
    await new Promise<void>((resolve) => execFile('umount', ['-l', m.mountPoint], () => resolve()));
    done.push(m.mountPoint);
  }
  return done;
}

/** Permission bits (incl. setuid/setgid/sticky) of `path`, following symlinks. */
export function modeOf(path: string): number {
  return statSync(path).mode & 0o7777;
}

export function ownerOf(path: string): { uid: number; gid: number } {
  const st = statSync(path);
  return { uid: st.uid, gid: st.gid };
}

export const octal = (mode: number): string => `0${mode.toString(8)}`;

/** The errno code of writing a new file at `path`, or undefined when the write succeeded. */
export function writeError(path: string): string | undefined {
  try {
    writeFileSync(path, 'x');
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

/** Names in `dir` that are not the atomic writer's `..`-prefixed entries. */
export function visibleFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('..'))
    .sort();
}

/** `link` is a symlink, and where it points. */
export function symlinkTarget(link: string): string | undefined {
  return lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(link) : undefined;
}

/** Every path below `dir` (relative, sorted), not descending into mount points; [] when `dir` is missing. */
export function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const mounted = new Set(mountsUnder(dir).map((m) => m.mountPoint));
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      out.push(r);
      if (!mounted.has(abs) && lstatSync(abs).isDirectory()) walk(abs, r);
    }
  };
  walk(dir, '');
  return out;
}
