/**
 * One `bin/csi-cert-driver <role>` child process with its settings in the environment and its stdout
 * and stderr captured to a log file (see logged-process.ts for the log and the exit-time SIGKILL).
 */
import { spawn } from 'node:child_process';
import { LoggedProcess } from './logged-process.js';
import { driverCommand } from './repo.js';

import type { Exit } from './logged-process.js';

export type { Exit, LogLine } from './logged-process.js';

export type Role = 'node' | 'issuer' | 'approver' | 'cluster-view';

export interface DriverProcessOptions {
  role: Role;
  /** Settings as environment variables (CSI_ENDPOINT, ...). */
  settings: Record<string, string>;
  cwd: string;
  logFile: string;
}

export class DriverProcess extends LoggedProcess {
  constructor(readonly options: DriverProcessOptions) {
    super(options.logFile, options.role, (fd) => {
      const { file, args } = driverCommand(options.role);
      return spawn(file, args, {
        cwd: options.cwd,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...options.settings },
        stdio: ['ignore', fd, fd],
      });
    });
  }

  killNow(): void {
    if (!this.exitStatus) this.child.kill('SIGKILL');
  }

  /** Sends `signal` and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.exitStatus) return this.exitStatus;
    this.child.kill(signal);
    return this.exited;
  }

  /** Sends `signal` without waiting (SIGSTOP/SIGCONT to stall and resume a process). */
  signal(signal: NodeJS.Signals): void {
    if (!this.exitStatus) this.child.kill(signal);
  }
}
