/**
 * What every child process a test starts has in common: its stdout and stderr appended to one log
 * file, its exit status, its log read back as JSON lines, and a SIGKILL (by `killNow()`) when the
 * test process exits, so a crashed test run never leaves one behind.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

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

const running = new Set<LoggedProcess>();
process.once('exit', () => {
  for (const p of running) p.killNow();
});

export abstract class LoggedProcess {
  readonly exited: Promise<Exit>;
  protected readonly child: ChildProcess;
  private exit: Exit | undefined;

  /** `start` spawns the child with `fd` (the log file opened for appending) as its stdout and stderr. */
  protected constructor(
    readonly logFile: string,
    private readonly label: string,
    start: (fd: number) => ChildProcess,
  ) {
    const fd = openSync(logFile, 'a');
    try {
      this.child = start(fd);
    } finally {
      closeSync(fd);
    }
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** SIGKILLs the process (and what it started, where the subclass knows) without waiting. */
  abstract killNow(): void;

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.label} did not start`);
    return this.child.pid;
  }

  /** Undefined while the process runs. */
  get exitStatus(): Exit | undefined {
    return this.exit;
  }

  logText(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  /** The JSON lines of the log; other lines (stderr text, Node warnings) are skipped. */
  logLines(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.logText().split(/\r?\n/)) {
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
    return this.logText().trimEnd().split(/\r?\n/).slice(-n).join('\n');
  }
}
