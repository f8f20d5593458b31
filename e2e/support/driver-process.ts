/**
 * One `bin/csi-cert-driver <role>` child process with its settings in the environment and its stdout
 * and stderr captured to a log file (see logged-process.ts for the log and the exit-time SIGKILL).
 * The end-to-end suites and the benchmarks both start the driver through this class.
 */
import { spawn } from 'node:child_process';
import { LoggedProcess } from './logged-process.js';
import { driverCommand } from './repo.js';

import type { Exit } from './logged-process.js';

export type { Exit, LogLine } from './logged-process.js';

export type Role = 'node' | 'issuer' | 'approver' | 'cluster-view';

export interface DriverProcessOptions {
  role: Role;
  /** Settings as environment variables (CSI_ENDPOINT, ...); with PATH and LC_ALL the whole environment. */
  settings: Record<string, string>;
  cwd: string;
  logFile: string;
  /**
   * What runs instead of the role's driver command (e.g. the pinned Node on dist/main.mjs with the
   * image's flags, as a benchmark measures the image); the role is not appended to `args`.
   */
  command?: { file: string; args: string[] };
}

export class DriverProcess extends LoggedProcess {
  constructor(readonly options: DriverProcessOptions) {
    super(options.logFile, options.role, (fd) => {
      const { file, args } = options.command ?? driverCommand(options.role);
      return spawn(file, args, {
        cwd: options.cwd,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...options.settings },
        stdio: ['ignore', fd, fd],
      });
    });
  }

  get role(): Role {
    return this.options.role;
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

  /** SIGTERM, then SIGKILL when the process is still there after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 5_000): Promise<Exit> {
    if (this.exitStatus) return this.exitStatus;
    const timer = setTimeout(() => this.killNow(), graceMs);
    try {
      return await this.kill('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` without waiting (SIGSTOP/SIGCONT to stall and resume a process). */
  signal(signal: NodeJS.Signals): void {
    if (!this.exitStatus) this.child.kill(signal);
  }

  /** Throws, with the end of the log, once the process has exited. */
  assertAlive(): void {
    const exit = this.exitStatus;
    if (!exit) return;
    throw new Error(`${this.role} exited (code ${exit.code}, signal ${exit.signal}); log:\n${this.tail()}`);
  }
}
