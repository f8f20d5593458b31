/**
 * The node role of the built product (`dist/main.mjs`, exactly what `npm run build` makes) run by
 * the Windows node.exe under Wine: Windows loads it and its node_modules through Wine's Z: drive.
 * Settings go in as environment variables, stdout and stderr to one log file (Wine loses console
 * output written to pipes). The process leads its own process group so a kill reaches everything
 * it started; every one still running is SIGKILLed when the test process exits.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { LoggedProcess, type Exit, type LogLine } from '../../support/logged-process.js';
import { DIST } from '../../support/repo.js';
import { sleep } from '../../support/wait.js';
import { NODE_EXE, WINE, onZ, wineEnv } from './wine.js';

export type { Exit, LogLine } from '../../support/logged-process.js';

export class WineNodeProcess extends LoggedProcess {
  constructor(
    readonly settings: Record<string, string>,
    logFile: string,
    cwd: string,
  ) {
    super(logFile, 'node.exe', (fd) => {
      if (!WINE) throw new Error('Wine is not installed');
      return spawn(WINE, [NODE_EXE, onZ(DIST), 'node'], {
        cwd,
        env: wineEnv(settings),
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    });
  }

  /** Resolves once the log says the node serves CSI; throws with the log when it exits or times out. */
  async waitServing(timeoutMs: number): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logLines().find((l) => l.msg === 'node driver serving CSI');
      if (line) return line;
      const why = this.exitStatus
        ? `node.exe exited ${JSON.stringify(this.exitStatus)} before serving`
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
    if (this.exitStatus) return this.exitStatus;
    this.killNow();
    return this.exited;
  }

  killNow(): void {
    if (this.exitStatus || this.child.pid === undefined) return;
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

  override tail(n = 30): string {
    return super.tail(n);
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
