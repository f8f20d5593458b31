import { execFile } from 'node:child_process';
import { basename } from 'node:path';

/**
 * File ACLs through `icacls`: inheritance removed, full control for SYSTEM and Administrators, read
 * for each configured reader SID (the pod's identity when the operator knows it). Wine ships an
 * `icacls` that accepts every argument, prints nothing and changes nothing; so does any host where
 * the tool is missing. The first use probes whether icacls really reports an ACL and, when it does
 * not, reports the gap once through `onWarning` and stops calling it: files then keep the ACL they
 * inherit from the target directory.
 */

export const SYSTEM_SID = 'S-1-5-18';
export const ADMINISTRATORS_SID = 'S-1-5-32-544';

/** 'enforced': icacls works here; 'unavailable': it is missing or a no-op; 'unknown': not probed yet. */
export type AclStatus = 'enforced' | 'unavailable' | 'unknown';

export type RunCommand = (file: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;

export interface AclOptions {
  /** SIDs (`S-1-5-...`) granted read access besides SYSTEM and Administrators. */
  readerSids?: readonly string[];
  /** Told once when ACLs cannot be enforced on this host. */
  onWarning?: (message: string) => void;
  /** Runs a command; a seam for tests, `execFile` by default. */
  run?: RunCommand;
}

export class FileAcl {
  private status: AclStatus = 'unknown';
  private probe: Promise<AclStatus> | undefined;
  private readonly run: RunCommand;
  private readonly readers: readonly string[];

  constructor(private readonly options: AclOptions = {}) {
    this.run = options.run ?? runCommand;
    this.readers = options.readerSids ?? [];
    for (const sid of this.readers) {
      if (!/^S-1-\d+(-\d+)+$/i.test(sid)) throw new Error(`reader SID '${sid}' is not of the form S-1-...`);
    }
  }

  get current(): AclStatus {
    return this.status;
  }

  /** The icacls arguments that restrict `file`. */
  grantArgs(file: string): string[] {
    const grants = [
      `*${SYSTEM_SID}:(F)`,
      `*${ADMINISTRATORS_SID}:(F)`,
      ...this.readers.map((s) => `*${s}:(R)`),
    ];
    return [file, '/inheritance:r', '/grant:r', ...grants, '/q'];
  }

  /**
   * Restricts `file`, or does nothing when ACLs are unavailable here. Throws when icacls works on
   * this host but fails for this file: a key must not stay readable by accident.
   */
  async restrict(file: string): Promise<AclStatus> {
    if ((await this.detect(file)) !== 'enforced') return 'unavailable';
    await this.run('icacls', this.grantArgs(file));
    return 'enforced';
  }

  /** Probes once: icacls must exist and list `file` when asked for its ACL. */
  detect(file: string): Promise<AclStatus> {
    this.probe ??= this.run('icacls', [file]).then(
      ({ stdout }) => this.settle(reportsAcl(stdout, file) ? 'enforced' : 'unavailable', 'icacls is a no-op'),
      (e: unknown) => this.settle('unavailable', `icacls failed: ${(e as Error).message.split('\n')[0]}`),
    );
    return this.probe;
  }

  private settle(status: AclStatus, why: string): AclStatus {
    this.status = status;
    if (status === 'unavailable') {
      (this.options.onWarning ?? defaultWarning)(
        `file ACLs are not enforced on this host (${why}); volume files keep the ACL inherited from ` +
          'the target directory, so any account that can read it can read the private keys',
      );
    }
    return status;
  }
}

/** icacls prints the file's path followed by its ACEs; a no-op build prints nothing. */
function reportsAcl(stdout: string, file: string): boolean {
  return stdout.toLowerCase().includes(basename(file).toLowerCase()) && stdout.includes(':');
}

function runCommand(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000, windowsHide: true }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function defaultWarning(message: string): void {
  process.emitWarning(message, { code: 'CSI_CERT_DRIVER_NO_ACL' });
}
