/**
 * A pod's in-cluster credentials for a Windows process under Wine: the service-account files at
 * `C:\var\run\secrets\kubernetes.io\serviceaccount` (where containerd 1.7+ bind-mounts them for a
 * HostProcess container, and where `/var/run/secrets/…` resolves for a process whose working
 * directory is on C:), plus the KUBERNETES_SERVICE_* variables kubelet sets. The directory is one
 * per Wine prefix, which every checkout on this machine shares: a lock directory next to it (with
 * the holder's pid, taken over when that process is gone) keeps concurrent runs apart, and the
 * files are removed again afterwards.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sleep } from '../../support/wait.js';
import { linuxPathOf } from './wine.js';

/** Where the driver's in-cluster config reads the token on Windows (working directory on C:). */
export const IN_CLUSTER_DIR = 'C:\\var\\run\\secrets\\kubernetes.io\\serviceaccount';
const LOCK_WAIT_MS = 600_000;

export interface InCluster {
  /** KUBERNETES_SERVICE_HOST and _PORT of `server`. */
  env: Record<string, string>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lock(dir: string): Promise<string> {
  const lockDir = `${dir}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  mkdirSync(dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return lockDir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // being created or removed right now
      }
      if (Number.isInteger(holder) && !alive(holder)) rmSync(lockDir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lockDir} is held by pid ${holder}`);
      else await sleep(250);
    }
  }
}

/**
 * Runs `fn` while the service-account files of `token` (for the API server `server`,
 * `https://host:port`, serving with `caPem`) are in place; removes them afterwards.
 */
export async function withInClusterCredentials<T>(
  o: { server: string; caPem: string; token: string; namespace: string },
  fn: (c: InCluster) => Promise<T>,
): Promise<T> {
  const dir = linuxPathOf(IN_CLUSTER_DIR);
  const lockDir = await lock(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'token'), o.token, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.crt'), o.caPem);
    writeFileSync(join(dir, 'namespace'), o.namespace);
    const url = new URL(o.server);
    return await fn({ env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(lockDir, { recursive: true, force: true });
  }
}
