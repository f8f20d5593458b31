/**
 * The CSI endpoint on Linux: a unix socket that kubelet (through node-driver-registrar) dials.
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import { unlessMissing, wrapInternal } from './errors.js';
import { parseUnixEndpoint } from './paths.js';
import type { PlatformLogger } from './options.js';

/**
 * Turns `unix:///abs/path.sock` or a bare `/abs/path.sock` into the grpc-js bind address
 * `unix:///abs/path.sock`. Creates the parent directory (0750) when missing and removes a stale
 * socket left by a previous run: one nothing accepts connections on. Throws `invalid-argument` for
 * any other endpoint shape, and `failed-precondition` when the path exists but is not a socket (a
 * regular file or a directory is never deleted) or when something still answers on it (another
 * node process on the same CSI_ENDPOINT: its socket is never removed).
 */
export async function prepareUnixEndpoint(endpoint: string, logger?: PlatformLogger): Promise<string> {
  const parsed = parseUnixEndpoint(endpoint);
  if ('reason' in parsed) throw new PlatformError('invalid-argument', `CSI endpoint: ${parsed.reason}`);
  const socketPath = parsed.path;
  const parent = path.dirname(socketPath);
  try {
    await mkdir(parent, { recursive: true, mode: 0o750 });
  } catch (err) {
    throw wrapInternal(err, `CSI endpoint: creating directory ${parent}`);
  }
  const existing = await unlessMissing(() => lstat(socketPath)).catch((err: unknown) => {
    throw wrapInternal(err, `CSI endpoint: inspecting ${socketPath}`);
  });
  if (existing !== undefined) {
    if (!existing.isSocket()) {
      throw new PlatformError(
        'failed-precondition',
        `CSI endpoint: ${socketPath} exists and is not a socket; refusing to delete it`,
      );
    }
    if (await answers(socketPath)) {
      throw new PlatformError(
        'failed-precondition',
        `CSI endpoint: ${socketPath} is in use by a running process (another node on the same CSI_ENDPOINT?); refusing to remove it`,
      );
    }
    await unlessMissing(() => unlink(socketPath)).catch((err: unknown) => {
      throw wrapInternal(err, `CSI endpoint: removing stale socket ${socketPath}`);
    });
    logger?.debug({ path: socketPath }, 'removed stale CSI socket');
  }
  return `unix://${socketPath}`;
}

/**
 * Whether a process accepts connections on the unix socket at `socketPath`. A stale socket refuses
 * at once (ECONNREFUSED); no answer within `timeoutMs` (a full backlog) counts as in use.
 */
export function answers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ path: socketPath });
    const done = (inUse: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(inUse);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'),
    );
  });
}
