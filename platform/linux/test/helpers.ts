/**
 * Shared set-up of the Linux adapter's tests: a scratch directory under /tmp per test, the mounters
 * to run against, and a clean-up that unmounts everything left below the scratch directory.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ExecMounter, loadFfiMounter, readMountInfo } from '../src/index.js';
import type { Mounter, PlatformLogger } from '../src/index.js';

export const isRoot = process.getuid?.() === 0;
/** Mount tests need root (mount(2) needs CAP_SYS_ADMIN); they are skipped otherwise. */
export const needsRoot = !isRoot;

/**
 * The mounters under test: always util-linux; the FFI one too when `koffi` resolves, from the repo
 * or from the directory in KOFFI_RESOLVE_FROM (e.g. a throwaway `npm install koffi` in /tmp).
 */
export function mountersUnderTest(): { name: string; mounter: Mounter }[] {
  const list: { name: string; mounter: Mounter }[] = [{ name: 'exec', mounter: new ExecMounter() }];
  const from = process.env['KOFFI_RESOLVE_FROM'];
  const ffi = loadFfiMounter(from === undefined ? undefined : path.join(from, 'noop.js'));
  if (ffi !== undefined) list.push({ name: 'ffi', mounter: ffi });
  return list;
}

/** A fresh canonical scratch directory. */
export async function scratchDir(): Promise<string> {
  return realpath(await mkdtemp(path.join(os.tmpdir(), 'csi-linux-test-')));
}

/** Unmounts (lazily, deepest first) every mount at or below `root`, then deletes `root`. */
export async function cleanScratch(root: string): Promise<void> {
  const mounts = readMountInfo();
  const below = mounts
    .filter((m) => m.mountPoint === root || m.mountPoint.startsWith(`${root}/`))
    .sort((a, b) => b.mountId - a.mountId);
  for (const m of below) await promisify(execFile)('umount', ['--lazy', m.mountPoint]).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}

/** Mounts below `root` right now. */
export async function mountsBelow(root: string): Promise<string[]> {
  return readMountInfo()
    .map((m) => m.mountPoint)
    .filter((p) => p.startsWith(`${root}/`));
}

/** A logger that keeps what it is given, to assert that nothing secret is logged. */
export function recordingLogger(): PlatformLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (obj, msg) => lines.push(`warn ${msg} ${JSON.stringify(obj)}`),
    debug: (obj, msg) => lines.push(`debug ${msg} ${JSON.stringify(obj)}`),
  };
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const decode = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);
