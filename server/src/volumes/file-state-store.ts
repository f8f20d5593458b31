import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PutOptions, StateStore } from './state-store.port.js';
import type { VolumeState } from './volume-state.js';

/**
 * Volume state as one JSON file per volume under `<dir>`, written to a temporary file and renamed
 * over the old one, so `kill -9` at any moment leaves the old or the new file. A durable put (the
 * default) also fsyncs the file before the rename and the directory after it; concurrent durable
 * puts share one directory fsync (group commit). Files are 0600: the state holds no key or token,
 * but it does hold a PKCS#12 password when one was asked for. Durability rules: ADR 12.
 *
 * Where the directory is on tmpfs (as the chart deploys it), `get`, `put` and `delete` do their file
 * work synchronously (ADR 14): on memory each call takes microseconds, less than the thread-pool hop
 * an asynchronous call costs, and they sit on the publish path. Everywhere else they are
 * asynchronous, since an `fsync` on a disk can take milliseconds. The guarantees are the same.
 */
/** `put`'s temporary files: `<volume id>.json.tmp-<8 hex>`. */
const TEMP_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.json\.tmp-[0-9a-f]+$/;

export class FileStateStore implements StateStore {
  private ready: Promise<void> | undefined;
  private readonly dirSync: GroupSync;
  /** Synchronous I/O: decided once, by `options.syncIo` or by the file system of `dir`. */
  readonly syncIo: boolean;

  /**
   * `options.syncIo` forces the mode; by default it is on exactly when `dir` (or, before it exists,
   * its nearest existing parent) is on tmpfs on Linux.
   */
  constructor(
    private readonly dir: string,
    options: { syncIo?: boolean } = {},
  ) {
    this.dirSync = new GroupSync(() => syncDir(dir));
    this.syncIo = options.syncIo ?? isOnTmpfs(dir);
  }

  private ensureDirSync(): void {
    if (this.ready !== undefined) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.ready = Promise.resolve();
  }

  private ensureDir(): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    return this.ready;
  }

  private file(volumeId: string): string {
    return join(this.dir, `${volumeId}.json`);
  }

  async get(volumeId: string): Promise<VolumeState | undefined> {
    try {
      const file = this.file(volumeId);
      return parseState(this.syncIo ? readFileSync(file, 'utf8') : await readFile(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async removeLeftovers(): Promise<string[]> {
    await this.ensureDir();
    const removed: string[] = [];
    for (const name of await readdir(this.dir)) {
      if (!TEMP_FILE.test(name)) continue;
      await rm(join(this.dir, name), { force: true });
      removed.push(name);
    }
    return removed;
  }

  async list(): Promise<{ states: VolumeState[]; corrupt: { file: string; reason: string }[] }> {
    await this.ensureDir();
    const states: VolumeState[] = [];
    const corrupt: { file: string; reason: string }[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const path = join(this.dir, name);
      try {
        states.push(parseState(await readFile(path, 'utf8')));
      } catch (e) {
        corrupt.push({ file: path, reason: (e as Error).message });
        await rename(path, `${path}.corrupt`).catch(() => undefined);
      }
    }
    return { states, corrupt };
  }

  /**
   * Writes `state` atomically. Durable (default): the file's data is fsynced before the rename and
   * the directory after it, so the new state survives a power cut once this resolves. Not durable:
   * the same write and rename without either fsync (survives `kill -9`, not a power cut). A failed
   * write leaves the old state and no temporary file.
   */
  async put(state: VolumeState, options: PutOptions = {}): Promise<void> {
    const durable = options.durable !== false;
    const final = this.file(state.volumeId);
    const tmp = `${final}.tmp-${randomBytes(4).toString('hex')}`;
    if (this.syncIo) {
      this.ensureDirSync();
      return this.putSync(state, durable, tmp, final);
    }
    await this.ensureDir();
    try {
      await writeFile(tmp, JSON.stringify(state), { mode: 0o600, flush: durable });
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    if (durable) await this.dirSync.run();
  }

  /** `put` with synchronous calls: the same steps, fsyncs included (on tmpfs they cost nothing). */
  private putSync(state: VolumeState, durable: boolean, tmp: string, final: string): void {
    try {
      writeFileSync(tmp, JSON.stringify(state), { mode: 0o600, flush: durable });
      renameSync(tmp, final);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    if (durable) syncDirNow(this.dir);
  }

  /** Removes the state file; no fsync (a state that comes back after a power cut is harmless, ADR 12). */
  async delete(volumeId: string): Promise<void> {
    if (this.syncIo) rmSync(this.file(volumeId), { force: true });
    else await rm(this.file(volumeId), { force: true });
  }
}

/** statfs(2) f_type of tmpfs. */
const TMPFS_MAGIC = 0x01021994;

/**
 * True when `dir`, or the nearest of its parents that exists, is on tmpfs. Only on Linux: elsewhere
 * (Windows, where the type means something else) and on any error the answer is false, which keeps
 * the asynchronous path.
 */
export function isOnTmpfs(dir: string): boolean {
  if (process.platform !== 'linux') return false;
  for (let p = dir; ; p = dirname(p)) {
    try {
      return statfsSync(p).type === TMPFS_MAGIC;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) return false;
    }
  }
}

/**
 * Runs `task` (an fsync) for many callers at once: a caller gets a run that starts after its call,
 * so whatever it wrote before calling is covered. While one run is in flight, every caller that
 * arrives shares the single next run.
 */
export class GroupSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.running === undefined) return this.start();
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}

function syncDirNow(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function parseState(text: string): VolumeState {
  const s = JSON.parse(text) as VolumeState;
  if (
    s?.version !== 1 ||
    typeof s.volumeId !== 'string' ||
    typeof s.targetPath !== 'string' ||
    !s.spec ||
    !s.pod
  ) {
    throw new Error('not a version-1 volume state');
  }
  return s;
}
