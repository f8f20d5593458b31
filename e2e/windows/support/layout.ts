/**
 * Where one Windows end-to-end run keeps things. Windows paths are what the node and the runner
 * see; every one maps to a Linux path the test checks directly.
 *
 *   /tmp/ccd-win-XXXXXX/            Linux work dir: CA, runner bundle, plans and results
 *   C:\ccd-win-XXXXXX\base          CERT_BASE_PATH (state\, mounts\windows-volumes\)
 *   C:\ccd-win-XXXXXX\kubelet\pods\<uid>\volumes\kubernetes.io~csi\<name>\mount    target paths
 *   Z:\tmp\ccd-win-XXXXXX\kubelet\...    target paths on Wine's Z: drive (the Linux root)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Pod } from '../../support/publish-table.js';
import { linuxPathOf, onZ } from './wine.js';

export type { Pod } from '../../support/publish-table.js';

/** One inline ephemeral volume as kubelet on a Windows node names it. */
export interface WinVolume {
  volumeId: string;
  /** Windows path the node gets. */
  targetPath: string;
  pod: Pod;
  /** Linux path of the target directory. */
  linuxTarget: string;
  /** Linux path of the directory kubelet made for the target (its parent). */
  linuxParent: string;
}

/** C: = the prefix's drive_c; Z: = the Linux root; long = C: with the `\\?\` prefix. */
export type Drive = 'C' | 'Z' | 'long';

export class WinLayout {
  /** Linux work directory (also reachable as Z:\...). */
  readonly work: string;
  /** Windows root on C:. */
  readonly cRoot: string;
  readonly certBasePath: string;

  constructor() {
    this.work = realpathSync(mkdtempSync('/tmp/ccd-win-'));
    this.cRoot = `C:\\${basename(this.work)}`;
    this.certBasePath = `${this.cRoot}\\base`;
    mkdirSync(linuxPathOf(this.cRoot), { recursive: true });
  }

  /** The Windows kubelet root of `drive`. */
  kubeletRoot(drive: Drive): string {
    if (drive === 'Z') return `${onZ(this.work)}\\kubelet`;
    return `${drive === 'long' ? '\\\\?\\' : ''}${this.cRoot}\\kubelet`;
  }

  newPod(name = `web-${randomBytes(3).toString('hex')}`, namespace = 'default'): Pod {
    return { name, namespace, uid: randomUUID(), serviceAccount: 'web-sa' };
  }

  /**
   * A volume named the way kubelet names it (`csi-<64 hex>`, `...\pods\<uid>\volumes\kubernetes.io~csi\<name>\mount`).
   * Kubelet creates the parent of the target; the driver creates the target itself.
   */
  newVolume(pod: Pod = this.newPod(), o: { drive?: Drive; name?: string } = {}): WinVolume {
    const parent = `${this.kubeletRoot(o.drive ?? 'C')}\\pods\\${pod.uid}\\volumes\\kubernetes.io~csi\\${o.name ?? 'tls'}`;
    const linuxParent = linuxPathOf(parent);
    mkdirSync(linuxParent, { recursive: true });
    return {
      volumeId: `csi-${randomBytes(32).toString('hex')}`,
      targetPath: `${parent}\\mount`,
      pod,
      linuxTarget: join(linuxParent, 'mount'),
      linuxParent,
    };
  }

  /** Linux path of a volume's state file. */
  stateFile(volumeId: string): string {
    return join(linuxPathOf(this.certBasePath), 'state', `${volumeId}.json`);
  }

  readState<T = Record<string, unknown>>(volumeId: string): T {
    return JSON.parse(readFileSync(this.stateFile(volumeId), 'utf8')) as T;
  }

  /** Linux path of the adapter's volume registry (`mounts\windows-volumes`). */
  get registryDir(): string {
    return join(linuxPathOf(this.certBasePath), 'mounts', 'windows-volumes');
  }

  registryFiles(): string[] {
    return existsSync(this.registryDir) ? readdirSync(this.registryDir).sort() : [];
  }

  /** Removes both roots, whatever the tests left. */
  remove(): void {
    rmSync(linuxPathOf(this.cRoot), { recursive: true, force: true });
    rmSync(this.work, { recursive: true, force: true });
  }
}
