import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStateStore, GroupSync, isOnTmpfs } from './file-state-store.js';
import type { VolumeState } from './volume-state.js';

function state(volumeId: string, phase: VolumeState['phase']): VolumeState {
  return {
    version: 1,
    volumeId,
    targetPath: `/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/tls/mount`,
    nodeId: 'n1',
    pod: { name: 'p', namespace: 'ns', uid: 'u', serviceAccount: 'sa' },
    attributes: {},
    spec: {} as VolumeState['spec'],
    phase,
    createdAt: '2026-11-25T00:00:00.000Z',
    failures: 0,
    history: [],
  };
}

describe.each([
  { mode: 'asynchronous I/O', syncIo: false },
  { mode: 'synchronous I/O (tmpfs)', syncIo: true },
])('FileStateStore, $mode', ({ syncIo }) => {
  let dir: string;
  let store: FileStateStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'state-store-'));
    store = new FileStateStore(join(dir, 'state'), { syncIo });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it.each([
    { durable: true, label: 'durable' },
    { durable: false, label: 'not durable' },
  ])('a $label put replaces the state atomically, 0600, with no temporary file left', async ({ durable }) => {
    await store.put(state('v1', 'publishing'), { durable });
    expect((await store.get('v1'))?.phase).toBe('publishing');
    await store.put(state('v1', 'published'), { durable });
    expect((await store.get('v1'))?.phase).toBe('published');
    expect(await readdir(join(dir, 'state'))).toEqual(['v1.json']);
    expect((await stat(join(dir, 'state', 'v1.json'))).mode & 0o777).toBe(0o600);
  });

  it('a failed put keeps the old state and removes its temporary file', async () => {
    await store.put(state('v1', 'published'));
    const bad = { ...state('v1', 'publishing'), toJSON: () => undefined } as unknown as VolumeState;
    // JSON.stringify gives undefined, which writeFile refuses: the write fails before the rename.
    await expect(store.put(bad)).rejects.toThrow();
    expect((await store.get('v1'))?.phase).toBe('published');
    expect(await readdir(join(dir, 'state'))).toEqual(['v1.json']);
  });

  it('removeLeftovers removes only what killed puts left, never a state', async () => {
    await store.put(state('v1', 'published'));
    const sdir = join(dir, 'state');
    const before = await readFile(join(sdir, 'v1.json'), 'utf8');
    const leftovers = ['v1.json.tmp-0a1b2c3d', 'csi-abc.json.tmp-ffffffff'];
    for (const name of leftovers) await writeFile(join(sdir, name), '{"pkcs12Password":"secret"}');
    await writeFile(join(sdir, 'v2.json.corrupt'), 'x');
    await writeFile(join(sdir, 'notes.tmp-1'), 'x');
    expect((await store.removeLeftovers()).sort()).toEqual([...leftovers].sort());
    expect((await readdir(sdir)).sort()).toEqual(['notes.tmp-1', 'v1.json', 'v2.json.corrupt']);
    expect(await readFile(join(sdir, 'v1.json'), 'utf8')).toBe(before);
    expect(await store.removeLeftovers()).toEqual([]);
  });

  it('delete removes the state; a missing one is fine', async () => {
    await store.put(state('v1', 'published'));
    await store.delete('v1');
    await store.delete('v1');
    expect(await store.get('v1')).toBeUndefined();
    expect((await store.list()).states).toEqual([]);
  });

  it('list sets an unreadable state aside and returns the others', async () => {
    await store.put(state('v1', 'published'));
    await writeFile(join(dir, 'state', 'v2.json'), '{"version":1,');
    const { states, corrupt } = await store.list();
    expect(states.map((s) => s.volumeId)).toEqual(['v1']);
    expect(corrupt.map((c) => c.file)).toEqual([join(dir, 'state', 'v2.json')]);
    expect((await readdir(join(dir, 'state'))).sort()).toEqual(['v1.json', 'v2.json.corrupt']);
  });
});

describe('isOnTmpfs', () => {
  it.skipIf(process.platform !== 'linux')(
    'tells tmpfs from other file systems, for missing paths by their parent',
    async () => {
      expect(isOnTmpfs('/dev/shm')).toBe(true);
      expect(isOnTmpfs('/dev/shm/csi-cert-driver-missing/state')).toBe(true);
      expect(isOnTmpfs('/proc')).toBe(false);
      expect(isOnTmpfs('/csi-cert-driver-missing/deeper')).toBe(isOnTmpfs('/'));
      expect(isOnTmpfs('/')).toBe(false); // this machine's root is a disk (ext4)
    },
  );

  it('the default follows the directory: a store under /dev/shm uses synchronous I/O', () => {
    expect(new FileStateStore('/dev/shm/csi-cert-driver-missing/state').syncIo).toBe(
      process.platform === 'linux',
    );
    expect(new FileStateStore('/proc/csi-cert-driver-missing', {}).syncIo).toBe(false);
    expect(new FileStateStore('/dev/shm/x', { syncIo: false }).syncIo).toBe(false);
  });
});

describe('GroupSync', () => {
  /** A task that stays pending until released, counting its runs. */
  function gate() {
    const releases: (() => void)[] = [];
    let runs = 0;
    const task = () => {
      runs++;
      return new Promise<void>((resolve) => releases.push(resolve));
    };
    return { task, runs: () => runs, release: () => releases.shift()?.() };
  }

  it('callers that arrive during a run share one later run, never the one already in flight', async () => {
    const g = gate();
    const sync = new GroupSync(g.task);
    const order: string[] = [];
    const first = sync.run().then(() => order.push('first'));
    const late = Array.from({ length: 10 }, (_, i) => sync.run().then(() => order.push(`late${i}`)));
    expect(g.runs()).toBe(1);
    g.release();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['first']); // the late callers wait for a run that started after them
    expect(g.runs()).toBe(2);
    g.release();
    await Promise.all(late);
    expect(order).toHaveLength(11);
    expect(g.runs()).toBe(2);
  });

  it('a failed run rejects its callers; the next callers get a fresh run', async () => {
    let runs = 0;
    const sync = new GroupSync(() => (++runs === 1 ? Promise.reject(new Error('EIO')) : Promise.resolve()));
    const failing = sync.run();
    const next = sync.run();
    await expect(failing).rejects.toThrow('EIO');
    await expect(next).resolves.toBeUndefined();
    await expect(sync.run()).resolves.toBeUndefined();
    expect(runs).toBe(3);
  });
});
