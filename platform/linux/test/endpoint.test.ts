import { execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import { LinuxPlatform } from '../src/index.js';
import { cleanScratch, scratchDir } from './helpers.js';

/** Leaves a socket file without a listener behind, as a driver killed with SIGKILL does. */
async function staleSocket(socketPath: string): Promise<void> {
  const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`;
  await promisify(execFile)(process.execPath, ['-e', script]).catch(() => undefined);
}

/** Another process serving the socket (a running driver); resolves once it listens. */
async function liveSocket(socketPath: string) {
  const script = `require('net').createServer((c) => c.end('hi')).listen(${JSON.stringify(socketPath)}, () => console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  return child;
}

/** Whether a connection to the socket is accepted. */
function reachable(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path: socketPath });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('LinuxPlatform.prepareEndpoint', () => {
  let root: string;
  let platform: LinuxPlatform;

  beforeEach(async () => {
    root = await scratchDir();
    platform = new LinuxPlatform({ dataRoot: path.join(root, 'mounts') });
  });
  afterEach(() => cleanScratch(root));

  it.each([
    { name: 'unix:// URL', form: (p: string) => `unix://${p}` },
    { name: 'bare path', form: (p: string) => p },
  ])('accepts a $name, creates the parent 0750 and returns unix:///abs', async ({ form }) => {
    const socketPath = path.join(root, 'plugins', 'csi.sock');
    await expect(platform.prepareEndpoint(form(socketPath))).resolves.toBe(`unix://${socketPath}`);
    expect((await stat(path.dirname(socketPath))).mode & 0o777).toBe(0o750);
  });

  it('removes a stale socket left by a killed driver', async () => {
    const socketPath = path.join(root, 'csi.sock');
    await staleSocket(socketPath);
    expect((await lstat(socketPath)).isSocket()).toBe(true);
    await expect(platform.prepareEndpoint(`unix://${socketPath}`)).resolves.toBe(`unix://${socketPath}`);
    await expect(lstat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('never removes a socket another process still answers on', async () => {
    const socketPath = path.join(root, 'csi.sock');
    const other = await liveSocket(socketPath);
    try {
      const err = await platform.prepareEndpoint(`unix://${socketPath}`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlatformError);
      expect(err).toMatchObject({ kind: 'failed-precondition', message: expect.stringContaining('in use') });
      expect((await lstat(socketPath)).isSocket()).toBe(true);
      expect(await reachable(socketPath)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it.each([
    { name: 'regular file', make: (p: string) => writeFile(p, 'keep me') },
    { name: 'directory', make: (p: string) => mkdir(p) },
  ])('refuses to delete a $name at the socket path', async ({ make }) => {
    const socketPath = path.join(root, 'csi.sock');
    await make(socketPath);
    const err = await platform.prepareEndpoint(socketPath).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err).toMatchObject({
      kind: 'failed-precondition',
      message: expect.stringContaining('not a socket'),
    });
    expect(await lstat(socketPath)).toBeDefined();
  });

  it('leaves a regular file untouched', async () => {
    const socketPath = path.join(root, 'csi.sock');
    await writeFile(socketPath, 'keep me');
    await platform.prepareEndpoint(socketPath).catch(() => undefined);
    expect(await readFile(socketPath, 'utf8')).toBe('keep me');
  });

  it.each(['tcp://127.0.0.1:1', 'unix://relative.sock', 'relative.sock', `/${'s'.repeat(120)}`])(
    'rejects %j as invalid-argument',
    async (endpoint) => {
      await expect(platform.prepareEndpoint(endpoint)).rejects.toMatchObject({ kind: 'invalid-argument' });
    },
  );
});
