import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_LINK, LinuxPlatform } from '../src/index.js';
import type { VolumeFile } from '@csi-cert-driver/platform-contract';
import { cleanScratch, decode, needsRoot, scratchDir, text } from './helpers.js';

const pair = (token: string, extra: VolumeFile[] = []): VolumeFile[] => [
  { name: 'tls.crt', data: text(`-----CERT ${token} ${'c'.repeat(1500)} ${token}-----`), mode: 0o440 },
  { name: 'tls.key', data: text(`-----KEY ${token} ${'k'.repeat(200)} ${token}-----`), mode: 0o400 },
  ...extra,
];

/**
 * Reads tls.crt and tls.key in a loop on another thread until told to stop. `resolved` readers
 * resolve `..data` once per pair (the consistent way to read a set); `naive` readers open the two
 * user-visible symlinks one after the other. Returns counts of pairs, mismatches and torn files.
 */
const readerSource = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const { dir, mode, stop } = workerData;
const flag = new Int32Array(stop);
const tokenOf = (s) => { const m = /^-----[A-Z]+ (\\S+) .* (\\S+)-----$/s.exec(s); return m && m[1] === m[2] ? m[1] : null; };
let pairs = 0, mismatches = 0, torn = 0, retries = 0;
while (Atomics.load(flag, 0) === 0) {
  try {
    const base = mode === 'resolved' ? path.join(dir, fs.readlinkSync(path.join(dir, '..data'))) : dir;
    const crt = tokenOf(fs.readFileSync(path.join(base, 'tls.crt'), 'utf8'));
    const key = tokenOf(fs.readFileSync(path.join(base, 'tls.key'), 'utf8'));
    if (crt === null || key === null) torn++;
    else if (crt !== key) mismatches++;
    pairs++;
    Atomics.store(flag, 1, pairs);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
    retries++; // the set resolved a moment ago was already replaced and removed
  }
}
parentPort.postMessage({ pairs, mismatches, torn, retries });
`;

async function startReader(dir: string, mode: 'resolved' | 'naive') {
  // Slot 0: stop flag; slot 1: pairs read so far (the swaps start only once the reader is reading).
  const stop = new SharedArrayBuffer(8);
  const worker = new Worker(readerSource, { eval: true, workerData: { dir, mode, stop } });
  const result = new Promise<{ pairs: number; mismatches: number; torn: number; retries: number }>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    },
  );
  const flag = new Int32Array(stop);
  for (const started = Date.now(); Atomics.load(flag, 1) === 0;) {
    if (Date.now() - started > 20_000) throw new Error('reader thread did not start reading within 20 s');
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    async finish() {
      Atomics.store(flag, 0, 1);
      return result;
    },
  };
}

describe('LinuxPlatform atomic file swaps', () => {
  let root: string;
  let dataRoot: string;
  let targetPath: string;
  let platform: LinuxPlatform;
  const volumeId = 'csi-swap';

  beforeEach(async () => {
    root = await scratchDir();
    dataRoot = path.join(root, 'mounts');
    targetPath = path.join(root, 'target');
    platform = new LinuxPlatform({ dataRoot });
  });
  afterEach(() => cleanScratch(root));

  it.skipIf(needsRoot).each(['resolved', 'naive'] as const)(
    'a %s reader never sees a half-written file during 200 swaps',
    async (mode) => {
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 1 << 20, fsGroup: 2000 });
      await platform.writeFiles(volumeId, pair('initial'));
      const reader = await startReader(targetPath, mode);
      for (let i = 0; i < 200; i++) await platform.writeFiles(volumeId, pair(randomBytes(8).toString('hex')));
      const seen = await reader.finish();
      expect(seen.pairs).toBeGreaterThan(0);
      expect(seen.torn).toBe(0);
      // Only a reader that resolves ..data once per pair is promised a matching pair; two opens of the
      // user-visible symlinks may straddle a swap, as with kubelet's Secret volumes.
      if (mode === 'resolved') expect(seen.mismatches).toBe(0);
    },
  );

  it.skipIf(needsRoot)(
    'gives files exactly their modes, owner root and the fsGroup, and dirs 0755',
    async () => {
      await platform.createVolume({ volumeId, targetPath, sizeBytes: 1 << 20, fsGroup: 2000 });
      await platform.writeFiles(volumeId, pair('t', [{ name: 'ca.crt', data: text('ca'), mode: 0o644 }]));
      const modes: Record<string, number> = {};
      for (const name of ['tls.crt', 'tls.key', 'ca.crt']) {
        const st = await stat(path.join(targetPath, name));
        expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: 0, gid: 2000 });
        modes[name] = st.mode & 0o7777;
        expect((await lstat(path.join(targetPath, name))).isSymbolicLink()).toBe(true);
        expect(await readlink(path.join(targetPath, name))).toBe(`${DATA_LINK}/${name}`);
      }
      expect(modes).toEqual({ 'tls.crt': 0o440, 'tls.key': 0o400, 'ca.crt': 0o644 });
      const setDir = await stat(path.join(targetPath, DATA_LINK));
      expect({ mode: setDir.mode & 0o7777, gid: setDir.gid }).toEqual({ mode: 0o755, gid: 2000 });
      const rootDir = await stat(targetPath);
      expect({ mode: rootDir.mode & 0o7777, gid: rootDir.gid }).toEqual({ mode: 0o755, gid: 2000 });
    },
  );

  it.skipIf(needsRoot)('drops names that leave the set and keeps exactly one timestamped dir', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 1 << 20 });
    await platform.writeFiles(volumeId, pair('a', [{ name: 'ca.crt', data: text('ca'), mode: 0o444 }]));
    await platform.writeFiles(volumeId, pair('b'));
    await platform.writeFiles(volumeId, [{ name: 'only.pem', data: text('c'), mode: 0o444 }]);
    const entries = (await readdir(targetPath)).sort();
    expect(entries.filter((e) => !e.startsWith('..'))).toEqual(['only.pem']);
    expect(entries.filter((e) => e.startsWith('..'))).toEqual([
      expect.stringMatching(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./),
      DATA_LINK,
    ]);
    expect(await platform.readFile(volumeId, 'tls.crt')).toBeUndefined();
    expect(decode(await platform.readFile(volumeId, 'only.pem'))).toBe('c');
  });

  it.skipIf(needsRoot)('a full tmpfs is resource-exhausted and the previous set stays intact', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 16 * 4096 });
    await platform.writeFiles(volumeId, pair('old'));
    const before = (await readdir(targetPath)).sort();
    const big: VolumeFile = { name: 'big.bin', data: new Uint8Array(64 * 1024), mode: 0o440 };
    const err = await platform.writeFiles(volumeId, pair('s3cr3t', [big])).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'resource-exhausted', message: expect.stringMatching(/full.*kept/) });
    expect((err as Error).message).not.toContain('s3cr3t');
    expect((await readdir(targetPath)).sort()).toEqual(before);
    expect(decode(await platform.readFile(volumeId, 'tls.key'))).toContain('KEY old');
    await platform.writeFiles(volumeId, pair('next'));
    expect(decode(await platform.readFile(volumeId, 'tls.crt'))).toContain('CERT next');
  });

  it.skipIf(needsRoot)('recovers from leftovers of a crashed write', async () => {
    await platform.createVolume({ volumeId, targetPath, sizeBytes: 1 << 20 });
    await platform.writeFiles(volumeId, pair('a'));
    const dir = path.join(dataRoot, volumeId);
    await mkdir(path.join(dir, '..2001_01_01_00_00_00.crash'));
    await platform.writeFiles(volumeId, pair('b'));
    expect((await readdir(dir)).filter((e) => e.startsWith('..'))).toHaveLength(2);
    expect(decode(await platform.readFile(volumeId, 'tls.key'))).toContain('KEY b');
  });
});
