import { open, readFile, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isTempName, MANIFEST_NAME } from './paths.js';

/**
 * Small file primitives that hold on Windows: renaming a FILE over an existing file is atomic
 * (MoveFileEx with MOVEFILE_REPLACE_EXISTING); renaming a directory over one is not possible, and
 * symlinks need a privilege, so neither is used. A rename over a file that a reader holds open
 * fails with EPERM/EACCES/EBUSY for as long as the reader holds it: see renameOver.
 */

const RETRY_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);
const RENAME_RETRY_MS = 2_000;
const NOT_EMPTY_RETRY_MS = 300;
/** How long a plain rename over a held file is retried before the move-aside fallback. */
const DIRECT_RENAME_MS = 50;

/**
 * The ancestors of `dir`, nearest first, up to and including `top` (as `mkdir -p` reports the
 * first directory it created, `\\?\`-prefixed on Windows); empty when `top` is not above `dir`.
 */
export function ancestorsUpTo(dir: string, top: string): string[] {
  const key = (p: string) => {
    const plain = resolve(p).replace(/^\\\\\?\\(?!UNC\\)/i, '');
    return process.platform === 'win32' ? plain.toLowerCase() : plain;
  };
  const stop = key(top);
  const chain: string[] = [];
  for (let p = dirname(dir); key(p) === stop || key(p).startsWith(stop + sep); p = dirname(p)) {
    chain.push(p);
    if (key(p) === stop || dirname(p) === p) break;
  }
  return chain;
}

/** `.NAME.tmp-HEX`: the temporary sibling a file is staged in before it replaces NAME. */
export function tempName(name: string): string {
  return `.${name}.tmp-${randomBytes(6).toString('hex')}`;
}

/**
 * Renames `from` over `to`. Windows (and Wine) refuse to replace a file that a reader holds open,
 * even with FILE_SHARE_DELETE; after a short retry the open file is moved aside (allowed while it
 * is open) and `from` moved in, so the writer cannot be starved by readers. In that fallback the
 * name is absent for the instant between the two renames: a reader can get ENOENT, never a
 * partial file. Gives up after a bounded time when even moving aside is refused (a reader
 * without FILE_SHARE_DELETE).
 */
export async function renameOver(from: string, to: string): Promise<void> {
  const start = Date.now();
  for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
    try {
      await rename(from, to);
      return;
    } catch (e) {
      if (!RETRY_CODES.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      if (Date.now() - start >= DIRECT_RENAME_MS && (await moveAsideAndIn(from, to))) return;
      if (Date.now() + delay - start > RENAME_RETRY_MS) throw e;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Moves the held-open `to` aside, `from` into its place, and deletes the old file (pending until closed). */
async function moveAsideAndIn(from: string, to: string): Promise<boolean> {
  const aside = join(dirname(to), tempName(basename(to)));
  try {
    await rename(to, aside);
  } catch {
    return false;
  }
  try {
    await rename(from, to);
  } catch (e) {
    await rename(aside, to).catch(() => undefined);
    throw e;
  }
  await rm(aside, { force: true }).catch(() => undefined);
  return true;
}

/** Writes `data` to a fresh temp file in `dir`, flushed to disk, and returns its path. */
export async function stageFile(
  dir: string,
  name: string,
  data: Uint8Array | string,
  beforeWrite?: (path: string) => Promise<unknown>,
): Promise<string> {
  const path = join(dir, tempName(name));
  const fh = await open(path, 'wx');
  let written = false;
  try {
    // The ACL goes on while the file is still empty, so the data is never readable more widely.
    if (beforeWrite) await beforeWrite(path);
    await fh.writeFile(data);
    await fh.sync();
    written = true;
  } finally {
    await fh.close().catch(() => undefined);
    if (!written) await rm(path, { force: true });
  }
  return path;
}

/** Replaces `dir\name` with `data` by write-temp-then-rename; no reader ever sees a partial file. */
export async function replaceFile(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const tmp = await stageFile(dir, name, data);
  try {
    await renameOver(tmp, join(dir, name));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Removes temp files a crashed writer left in `dir`; a missing directory is fine. */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  await Promise.all(names.filter(isTempName).map((n) => rm(join(dir, n), { force: true })));
}

/** The JSON in `path`, or undefined when the file is missing or not valid JSON. */
export async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

/** True when `dir` contains nothing but the driver's manifest and temp files. */
export async function holdsOnlyOurs(dir: string): Promise<boolean> {
  const names = await readdir(dir);
  return names.every((n) => n === MANIFEST_NAME || isTempName(n));
}

/**
 * Removes the empty directory `dir`; a missing one is fine. Retries briefly while Windows finishes
 * deleting a file a reader still held open (ENOTEMPTY for a moment); foreign files never go away,
 * so ENOTEMPTY is given up on after a short while and thrown.
 */
export async function removeEmptyDir(dir: string): Promise<void> {
  const start = Date.now();
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOENT') return;
      const budget = code === 'ENOTEMPTY' ? NOT_EMPTY_RETRY_MS : RETRY_CODES.has(code) ? RENAME_RETRY_MS : 0;
      if (Date.now() + delay - start > budget) throw e;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
