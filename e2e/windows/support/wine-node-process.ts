/**
 * The node role of the built product (`dist/main.mjs`, exactly what `npm run build` makes) run by
 * the Windows node.exe under Wine: Windows loads it and its node_modules through Wine's Z: drive.
 * Settings go in as environment variables, stdout and stderr to one log file (Wine loses console
 * output written to pipes). The process leads its own process group so a kill reaches everything
 * it started; every one still running is SIGKILLed when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { DIST } from '../../support/repo.js';
import { sleep } from '../../support/wait.js';
import { NODE_EXE, WINE, onZ, wineEnv } from './wine.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A parsed JSON log line (pino). */
export interface LogLine {
  level: string | number;
  msg: string;
  [field: string]: unknown;
}

const running = new Set<WineNodeProcess>();
process.once('exit', () => {
  for (const p of running) p.killNow();
});

export class WineNodeProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private exit: Exit | undefined;

  constructor(
    readonly settings: Record<string, string>,
    readonly logFile: string,
    cwd: string,
  ) {
    if (!WINE) throw new Error('Wine is not installed');
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawn(WINE, [NODE_EXE, onZ(DIST), 'node'], {
        cwd,
        env: wineEnv(settings),
        stdio: ['ignore', fd, fd],
        detached: true,
      });
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

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('node.exe did not start');
    return this.child.pid;
  }

  get exitStatus(): Exit | undefined {
    return this.exit;
  }

  /** Resolves once the log says the node serves CSI; throws with the log when it exits or times out. */
  async waitServing(timeoutMs: number): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logLines().find((l) => l.msg === 'node driver serving CSI');
      if (line) return line;
      const why = this.exit
        ? `node.exe exited ${JSON.stringify(this.exit)} before serving`
        : Date.now() > deadline
          ? `node.exe did not serve CSI within ${timeoutMs} ms`
          : undefined;
      if (why) throw new Error(`${why}\n--- node log ---\n${this.tail()}`);
      await sleep(250);
    }
  }

  /**
   * SIGKILLs node.exe, its process group and any descendant that left the group, and waits until
   * node.exe is gone. Wine's shared wineserver is not ours and is left alone.
   */
  async kill(): Promise<Exit> {
    if (this.exit) return this.exit;
    this.killNow();
    return this.exited;
  }

  killNow(): void {
    if (this.exit || this.child.pid === undefined) return;
    const victims = [this.child.pid, ...descendantsOf(this.child.pid)];
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  logText(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  /** The JSON lines of the log; text lines (Node warnings on stderr) are skipped. */
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

  tail(n = 30): string {
    return this.logText().trimEnd().split(/\r?\n/).slice(-n).join('\n');
  }
}

/** Every live descendant of `pid`, from /proc's parent links. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent && !out.includes(child)) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}
