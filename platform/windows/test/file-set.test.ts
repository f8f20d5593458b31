import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  holdsCompleteSet,
  readManifest,
  renameOrder,
  replaceFileSet,
  writeManifest,
} from '../src/file-set.js';
import { ancestorsUpTo } from '../src/fs-util.js';
import { MANIFEST_NAME } from '../src/paths.js';

// The per-file replacement logic on the local file system. The same code runs on real Windows
// file APIs under Wine in wine.test.ts; this suite keeps it covered where Wine is not installed.

const file = (name: string, content: string) => ({
  name,
  data: new TextEncoder().encode(content),
  mode: 0o440,
});
const noProtect = async () => undefined;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'win-fileset-'));
  await writeManifest(dir, { version: 1, volumeId: 'v1', generation: 0, state: 'created', files: [] });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('replaceFileSet', () => {
  it('writes the set, then replaces it and removes dropped files', async () => {
    await replaceFileSet({
      dir,
      volumeId: 'v1',
      files: [file('tls.crt', 'c1'), file('tls.key', 'k1'), file('ca.crt', 'a1')],
      protect: noProtect,
    });
    expect(await holdsCompleteSet(dir, 'v1')).toBe(true);
    expect(await readManifest(dir)).toMatchObject({ generation: 1, state: 'complete' });

    await writeFile(join(dir, '.tls.key.tmp-00ff'), 'left by a crash');
    await replaceFileSet({
      dir,
      volumeId: 'v1',
      files: [file('tls.crt', 'c2'), file('tls.key', 'k2')],
      protect: noProtect,
    });
    expect((await readdir(dir)).sort()).toEqual([MANIFEST_NAME, 'tls.crt', 'tls.key']);
    expect(await readFile(join(dir, 'tls.key'), 'utf8')).toBe('k2');
    expect(await readManifest(dir)).toEqual({
      version: 1,
      volumeId: 'v1',
      generation: 2,
      state: 'complete',
      files: ['tls.crt', 'tls.key'],
    });
  });

  it('stages keys first and protects every file before its data is written', async () => {
    const protectedPaths: string[] = [];
    const protect = async (path: string) => {
      protectedPaths.push(path);
      expect(await readFile(path, 'utf8')).toBe('');
    };
    await replaceFileSet({
      dir,
      volumeId: 'v1',
      files: [file('tls.crt', 'c'), file('ca.crt', 'a'), file('tls.key', 'k')],
      protect,
    });
    expect(protectedPaths.map((p) => p.slice(dir.length + 1).replace(/\.tmp-[0-9a-f]+$/, ''))).toEqual([
      '.tls.key',
      '.tls.crt',
      '.ca.crt',
    ]);
  });

  it('refuses a directory that now belongs to another volume', async () => {
    await expect(
      replaceFileSet({ dir, volumeId: 'v2', files: [file('tls.key', 'k')], protect: noProtect }),
    ).rejects.toMatchObject({ kind: 'failed-precondition' });
    expect(await readdir(dir)).toEqual([MANIFEST_NAME]);
  });

  it('leaves the old set and no temp file behind when staging fails', async () => {
    await replaceFileSet({
      dir,
      volumeId: 'v1',
      files: [file('tls.key', 'k1'), file('tls.crt', 'c1')],
      protect: noProtect,
    });
    let calls = 0;
    const failing = async () => {
      if (++calls === 2) throw new Error('icacls: Access is denied.');
    };
    await expect(
      replaceFileSet({
        dir,
        volumeId: 'v1',
        files: [file('tls.key', 'k2'), file('tls.crt', 'c2')],
        protect: failing,
      }),
    ).rejects.toThrow(/Access is denied/);
    expect((await readdir(dir)).sort()).toEqual([MANIFEST_NAME, 'tls.crt', 'tls.key']);
    expect(await readFile(join(dir, 'tls.key'), 'utf8')).toBe('k1');
    expect(await readManifest(dir)).toMatchObject({ generation: 1, state: 'complete' });
  });
});

describe('holdsCompleteSet and readManifest', () => {
  it.each([
    { name: 'a created volume', state: 'created' as const, files: [], want: false },
    { name: 'a set being written', state: 'writing' as const, files: ['tls.key'], want: false },
    {
      name: 'a listed file missing',
      state: 'complete' as const,
      files: ['tls.key', 'gone.crt'],
      want: false,
    },
    { name: 'a complete set', state: 'complete' as const, files: ['tls.key'], want: true },
  ])('$name -> $want', async ({ state, files, want }) => {
    await writeFile(join(dir, 'tls.key'), 'k');
    await writeManifest(dir, { version: 1, volumeId: 'v1', generation: 1, state, files });
    expect(await holdsCompleteSet(dir, 'v1')).toBe(want);
    expect(await holdsCompleteSet(dir, 'v2')).toBe(false);
  });

  it('never trusts a listed name that would leave the directory', async () => {
    await writeFile(
      join(dir, MANIFEST_NAME),
      JSON.stringify({ version: 1, volumeId: 'v1', files: ['..\\x', '../x', 'ok.pem'] }),
    );
    expect((await readManifest(dir))?.files).toEqual(['ok.pem']);
  });
});

describe('renameOrder and ancestorsUpTo', () => {
  it('puts private keys first and keeps the rest in order', () => {
    const names = renameOrder([
      file('tls.crt', ''),
      file('ca.crt', ''),
      file('key.pem', ''),
      file('tls.key', ''),
    ]);
    expect(names.map((f) => f.name)).toEqual(['key.pem', 'tls.key', 'tls.crt', 'ca.crt']);
  });

  it.each([
    { dir: '/a/b/c/d', top: '/a/b', want: ['/a/b/c', '/a/b'] },
    { dir: '/a/b/c/d', top: '/a/b/c/d', want: [] },
    { dir: '/a/b/c/d', top: '/x', want: [] },
    { dir: '/a/bc/d', top: '/a/b', want: [] },
  ])('$dir up to $top', ({ dir: d, top, want }) => {
    expect(ancestorsUpTo(d, top)).toEqual(want);
  });
});
