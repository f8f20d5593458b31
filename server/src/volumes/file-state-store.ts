import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PutOptions, StateStore } from './state-store.port.js';
import type { VolumeState } from './volume-state.js';

/**
 * Volume state as one JSON file per volume under `<dir>`, written to a temporary file and renamed
 * over the old one, so `kill -9` at any moment leaves the old or the new file. A durable put (the
 * default) also fsyncs the file before the rename and the directory after it; concurrent durable
 * puts share one directory fsync (group commit). Files are 0600: the state holds no key or token,
 * but it does hold a PKCS#12 password when one was asked for. Durability rules: ADR 12.
 */
export class FileStateStore implements StateStore {
  private ready: Promise<void> | undefined;
  private readonly dirSync: GroupSync;

  constructor(private readonly dir: string) {
    this.dirSync = new GroupSync(() => syncDir(dir));
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
      return parseState(await readFile(this.file(volumeId), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
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
    await this.ensureDir();
    const final = this.file(state.volumeId);
    const tmp = `${final}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(tmp, JSON.stringify(state), { mode: 0o600, flush: durable });
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    if (durable) await this.dirSync.run();
  }

  /** Removes the state file; no fsync (a state that comes back after a power cut is harmless, ADR 12). */
  async delete(volumeId: string): Promise<void> {
    await rm(this.file(volumeId), { force: true });
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
