/**
 * The registration socket's file: claimed before the server binds, released after it stops. A live
 * socket (another process answers on it) is never taken over; a stale one (nothing answers, e.g. after
 * a SIGKILL) is replaced; anything that is not a socket is never deleted.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';

/** Thrown when the path cannot be claimed; the message names the path and why. */
export class PluginSocketError extends Error {
  override readonly name = 'PluginSocketError';
}

/** The registration socket's mode: kubelet runs as root and is the only client. */
export const SOCKET_MODE = 0o600;

/** What is at a socket path: nothing, a socket nobody answers on, a live socket, or something else. */
export type SocketProbe = 'missing' | 'stale' | 'live' | 'not-a-socket';

/** Connects once (up to `timeoutMs`): ECONNREFUSED means nobody listens. Unknown outcomes count as live. */
export async function probeSocket(path: string, timeoutMs = 1000): Promise<SocketProbe> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return 'missing';
  if (!st.isSocket()) return 'not-a-socket';
  return new Promise<SocketProbe>((resolve) => {
    const sock = connect({ path });
    const done = (r: SocketProbe) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('live'), timeoutMs);
    sock.once('connect', () => done('live'));
    sock.once('error', (e: NodeJS.ErrnoException) =>
      done(e.code === 'ECONNREFUSED' ? 'stale' : e.code === 'ENOENT' ? 'missing' : 'live'),
    );
  });
}

/**
 * Makes `path` free to bind: creates its directory (0750) when missing, removes a stale socket.
 * Throws PluginSocketError when another process serves the path or it is not a socket.
 */
export async function claimSocketPath(path: string): Promise<{ replacedStale: boolean }> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  const found = await probeSocket(path);
  if (found === 'live') {
    throw new PluginSocketError(`${path}: another process answers on this socket; not replacing it`);
  }
  if (found === 'not-a-socket') {
    throw new PluginSocketError(`${path} exists and is not a socket; refusing to delete it`);
  }
  if (found === 'stale') {
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  return { replacedStale: found === 'stale' };
}

/** The identity of the file at `path` once bound, so release removes only our own socket. */
export interface BoundSocket {
  path: string;
  dev: number;
  ino: number;
}

/** Tightens the freshly bound socket to SOCKET_MODE and records its identity. */
export async function sealSocket(path: string): Promise<BoundSocket> {
  await chmod(path, SOCKET_MODE);
  const st = await lstat(path);
  return { path, dev: st.dev, ino: st.ino };
}

/** Removes the socket if it is still the one we bound; a missing or replaced file is left alone. */
export async function releaseSocket(bound: BoundSocket): Promise<void> {
  const st = await lstat(bound.path).catch(() => undefined);
  if (!st || st.dev !== bound.dev || st.ino !== bound.ino) return;
  await unlink(bound.path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}
