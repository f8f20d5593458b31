/**
 * One `bin/csi-cert-driver <role>` child process with its settings in the environment and its stdout
 * and stderr captured to a log file. Every process started here is SIGKILLed when the test process
 * exits, so a crashed test run never leaves a driver behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { driverCommand } from './repo.js';

export type Role = 'node' | 'issuer' | 'approver' | 'cluster-view';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A parsed JSON log line of the driver (pino). */
export interface LogLine {
  level: string | number;
  msg: string;
  [field: string]: unknown;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface DriverProcessOptions {
  role: Role;
  /** Settings as environment variables (CSI_ENDPOINT, ...). */
  settings: Record<string, string>;
  cwd: string;
  logFile: string;
}

export class DriverProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private exit: Exit | undefined;

  constructor(readonly options: DriverProcessOptions) {
    const fd = openSync(options.logFile, 'a');
    try {
      const { file, args } = driverCommand(options.role);
      this.child = spawn(file, args, {
        cwd: options.cwd,
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...options.settings },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    running.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.options.role} did not start`);
    return this.child.pid;
  }

  /** Undefined while the process runs. */
  get exitStatus(): Exit | undefined {
    return this.exit;
  }

  /** Sends `signal` and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    return this.exited;
  }

  /** Sends `signal` without waiting (SIGSTOP/SIGCONT to stall and resume a process). */
  signal(signal: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(signal);
  }

  logText(): string {
    return readFileSync(this.options.logFile, 'utf8');
  }

  /** The JSON lines of this process's log; other lines (stderr text) are skipped. */
  logLines(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.logText().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogLine);
      } catch {
        // a line cut short by SIGKILL
      }
    }
    return out;
  }

  /** The last `n` lines of the log, for failure messages. */
  tail(n = 20): string {
    return this.logText().trimEnd().split('\n').slice(-n).join('\n');
  }
}
