import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StateStore } from './state-store.port.js';
import type { VolumeState } from './volume-state.js';

/**
 * Volume state as one JSON file per volume under `<dir>`, written with write-temp, fsync, rename,
 * fsync-dir, so `kill -9` at any moment leaves the old or the new file. Files are 0600: the state
 * holds no key or token, but it does hold a PKCS#12 password when one was asked for.
 */
export class FileStateStore implements StateStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

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

  async put(state: VolumeState): Promise<void> {
    await this.ensureDir();
    const final = this.file(state.volumeId);
    const tmp = `${final}.tmp-${randomBytes(4).toString('hex')}`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(state));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await syncDir(this.dir);
  }

  async delete(volumeId: string): Promise<void> {
    await rm(this.file(volumeId), { force: true });
    await syncDir(this.dir).catch(() => undefined);
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
