/**
 * How the adapter mounts and unmounts. `ExecMounter` (the default) runs util-linux `mount` and
 * `umount` with argument arrays, never through a shell; `loadFfiMounter` (ffi-mounter.ts) calls
 * mount(2)/umount2(2) in-process and is about a hundred times faster.
 */
import { execFile } from 'node:child_process';

export interface TmpfsOptions {
  /** `size=` of the tmpfs; the kernel rounds it up to whole pages. Must be > 0 (0 means unlimited). */
  sizeBytes: number;
  /** Permission bits of the tmpfs root directory. */
  mode: number;
  /** Group of the tmpfs root directory (its owner is always root). */
  gid: number;
}

export interface Mounter {
  readonly name: string;
  /** Mounts a fresh tmpfs with source `TMPFS_SOURCE` at `target` with `nosuid,nodev,noexec`. */
  mountTmpfs(target: string, opts: TmpfsOptions): Promise<void>;
  /**
   * Bind-mounts `source` at `target` and makes the bind read-only (`ro,nosuid,nodev,noexec`). A
   * failure may leave a writable bind behind; the caller checks the mount table and unmounts it.
   */
  bindReadOnly(source: string, target: string): Promise<void>;
  /** Unmounts the topmost mount at `target`; `lazy` detaches it even while it is busy (MNT_DETACH). */
  unmount(target: string, lazy: boolean): Promise<void>;
}

/** The tmpfs option string shared by both mounters. */
export function tmpfsData(opts: TmpfsOptions): string {
  if (!Number.isSafeInteger(opts.sizeBytes) || opts.sizeBytes <= 0) {
    throw new RangeError(`tmpfs size must be a positive integer, got ${opts.sizeBytes}`);
  }
  const mode = (opts.mode & 0o7777).toString(8).padStart(4, '0');
  return `size=${opts.sizeBytes},mode=${mode},uid=0,gid=${opts.gid}`;
}

/** Source name of every tmpfs this adapter mounts, so operators (and removal) can tell them apart. */
export const TMPFS_SOURCE = 'csi-cert-driver';

/** Flags every mount of this adapter carries. */
export const SAFE_FLAGS = 'nosuid,nodev,noexec';

/** A failed mount command; `code` is the errno name when known (`EBUSY`, `ENOTDIR`, …). */
export class MountError extends Error {
  override readonly name = 'MountError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const EXEC_TIMEOUT_MS = 30_000;

/** Runs util-linux `mount`/`umount` (from PATH) with a C locale so messages are stable. */
export class ExecMounter implements Mounter {
  readonly name = 'exec';

  async mountTmpfs(target: string, opts: TmpfsOptions): Promise<void> {
    await run('mount', ['-t', 'tmpfs', '-o', `${SAFE_FLAGS},${tmpfsData(opts)}`, TMPFS_SOURCE, target]);
  }

  async bindReadOnly(source: string, target: string): Promise<void> {
    // util-linux turns this into mount(MS_BIND) followed by mount(MS_REMOUNT|MS_BIND|MS_RDONLY).
    await run('mount', ['--bind', '-o', `ro,${SAFE_FLAGS}`, source, target]);
  }

  async unmount(target: string, lazy: boolean): Promise<void> {
    await run('umount', lazy ? ['--lazy', target] : [target]);
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: EXEC_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } },
      (err, _stdout, stderr) => {
        if (err === null) return resolve();
        const detail = stderr.trim().split('\n')[0] || err.message;
        const busy = /busy/i.test(stderr) ? 'EBUSY' : undefined;
        const code = typeof err.code === 'string' ? err.code : busy;
        reject(new MountError(`${command} ${args.join(' ')}: ${detail}`, code));
      },
    );
  });
}
