/** What the numbers were measured on: cores, CPU, Node, kernel, OpenSSL, load, disk. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  benchNode: string;
  driverNode: string;
  openssl: string;
  uvThreadpool: string;
  /** Filesystem type and device of the directory holding CERT_BASE_PATH (state files are fsync'd there). */
  stateDisk: string;
  loadAtStart: [number, number, number];
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The node binary `bin/csi-cert-driver` runs (the pinned one in node_modules, else PATH's). */
export function driverNodeBinary(repoRoot: string): string {
  const pinned = path.join(repoRoot, 'node_modules', '.bin', 'node');
  return existsSync(pinned) ? pinned : 'node';
}

/** How a benchmark starts the node role: `image` as the image's ENTRYPOINT does, `main` on dist/main.mjs. */
export type NodeEntry = 'image' | 'main';

/**
 * The node role's command line for `entry`: `image` runs `bin/csi-cert-driver node`, which starts
 * the node from its startup snapshot (ADR 26) and falls back to dist/main.mjs; `main` runs
 * dist/main.mjs on the pinned node with `nodeArgs` before it (node flags NODE_OPTIONS refuses).
 */
export function nodeRoleCommand(
  repoRoot: string,
  entry: NodeEntry,
  nodeArgs: string[] = [],
): { file: string; args: string[] } {
  return entry === 'main'
    ? { file: driverNodeBinary(repoRoot), args: [...nodeArgs, path.join(repoRoot, 'dist/main.mjs'), 'node'] }
    : { file: path.join(repoRoot, 'bin/csi-cert-driver'), args: ['node'] };
}

/**
 * The environment the Linux image gives the driver: the `ENV` instructions of the Dockerfile's last
 * stage (`ENV A=1 B=2` on one line, unquoted values), so a benchmark runs the process as the image
 * does and cannot drift from it. Throws when the Dockerfile has none.
 */
export function imageEnv(repoRoot: string): Record<string, string> {
  const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lastStage = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of lastStage.split('\n')) {
    const m = /^ENV\s+(.*)$/.exec(line.trim());
    for (const pair of m?.[1]?.split(/\s+/) ?? []) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  if (Object.keys(env).length === 0) throw new Error('Dockerfile: no ENV in the last stage');
  return env;
}

export function machineInfo(repoRoot: string, stateDir: string): MachineInfo {
  const cpus = os.cpus();
  const df = tryRun('df', ['--output=fstype,source', stateDir]).split('\n')[1]?.trim() ?? 'unknown';
  const [l1, l5, l15] = os.loadavg();
  return {
    date: new Date().toISOString(),
    cores: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    benchNode: process.version,
    driverNode: tryRun(driverNodeBinary(repoRoot), ['--version']),
    openssl: tryRun('openssl', ['version']),
    uvThreadpool: process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)',
    stateDisk: df.replace(/\s+/g, ' '),
    loadAtStart: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
  };
}

/**
 * CPU this process spends per sleep-and-wake of its event loop, in ms: `cycles` timers of `sleepMs`,
 * nothing else to do, CPU from `process.cpuUsage`. On bare metal a cycle costs a few microseconds; in
 * a nested VM, where halting and waking a vCPU goes through two hypervisors, it costs 0.1–0.3 ms, and
 * a publish, which sleeps and wakes several processes (client, node, issuer, key-pool worker), pays it
 * several times. It varies over minutes on a shared host, which is why the reports print it.
 */
export async function wakeCostMs(cycles = 200, sleepMs = 5): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < cycles; i++) await new Promise((r) => setTimeout(r, sleepMs));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / cycles;
}

export const fmtLoad = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

export const loadNow = (): [number, number, number] => {
  const [a, b, c] = os.loadavg();
  return [a ?? 0, b ?? 0, c ?? 0];
};

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Machine-wide CPU time from /proc/stat and this process's own (with reaped children), in ms. */
export interface CpuSnapshot {
  at: number;
  busyMs: number;
  stealMs: number;
  /** This process and its reaped children. */
  selfMs: number;
  /** Reaped children only (the openssl processes of the baseline). */
  childrenMs: number;
}

/** CPU ticks of a process from /proc/<pid>/stat: [11] utime, [12] stime, [13] cutime, [14] cstime. */
function ticksOf(pid: number | 'self', fields: readonly number[]): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After the command name: state(0) … utime(11) stime(12) cutime(13) cstime(14).
  const own = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.reduce((sum, i) => sum + Number(own[i] ?? 0), 0);
}

/** CPU time process `pid` used so far (user + system, and its reaped children's unless `reaped` is false), in ms. */
export function processCpuMs(pid: number, { reaped = true }: { reaped?: boolean } = {}): number {
  return ticksOf(pid, reaped ? [11, 12, 13, 14] : [11, 12]) * TICK_MS;
}

/** Memory of process `pid` from /proc/<pid>/status, in MiB (and its thread count). */
export interface ProcessMemory {
  rssMiB: number;
  /** Peak resident set size (VmHWM). */
  hwmMiB: number;
  anonMiB: number;
  fileMiB: number;
  threads: number;
}

export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return {
    rssMiB: kb('VmRSS') / 1024,
    hwmMiB: kb('VmHWM') / 1024,
    anonMiB: kb('RssAnon') / 1024,
    fileMiB: kb('RssFile') / 1024,
    threads: kb('Threads'),
  };
}

export function cpuSnapshot(): CpuSnapshot {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => f[i] ?? 0;
  const ticks = (fields: number[]): number => ticksOf('self', fields);
  return {
    at: performance.now(),
    busyMs: (at(0) + at(1) + at(2) + at(5) + at(6)) * TICK_MS,
    stealMs: at(7) * TICK_MS,
    selfMs: ticks([11, 12, 13, 14]) * TICK_MS,
    childrenMs: ticks([13, 14]) * TICK_MS,
  };
}

/**
 * How busy the machine was with work that is not ours between two snapshots, in cores (2.0 = both
 * cores of a 2-core machine fully used by others). `oursMs` is the CPU the driver processes used.
 */
export function othersCores(a: CpuSnapshot, b: CpuSnapshot, oursMs: number): number {
  const wall = b.at - a.at;
  if (wall <= 0) return NaN;
  const others = b.busyMs - a.busyMs - (b.selfMs - a.selfMs) - oursMs;
  return Math.max(0, others) / wall;
}

/** Steal time between two snapshots, in cores: CPU the hypervisor gave to other guests. */
export function stealCores(a: CpuSnapshot, b: CpuSnapshot): number {
  const wall = b.at - a.at;
  return wall <= 0 ? NaN : (b.stealMs - a.stealMs) / wall;
}
