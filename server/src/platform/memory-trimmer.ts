/**
 * Gives the node's freed native memory back to the OS after busy periods (ADR 15). A publish burst
 * or a renewal wave leaves tens of MiB that OpenSSL, grpc-js buffers and V8's off-heap allocations
 * freed inside the C heap; the allocator keeps it for reuse, so without a trim the resident set stays
 * at the burst's high-water mark. Every `intervalMs` the trimmer looks at the CPU time the process
 * used since the previous look: at least `minCpuMs` means something ran (and freed memory), and it
 * calls `HostTuning.releaseFreeMemory` once; less means the node is idle and it does nothing, so
 * an idle node stays at ~0 % CPU. Trimming never moves memory in use and never blocks for long
 * (1–3.5 ms on a node with 10,000 volumes, 1 ms on average: docs/benchmarks.md, part D); it runs on
 * the event loop between tasks.
 */
import { performance } from 'node:perf_hooks';

export interface MemoryTrimmerOptions {
  /** `HostTuning.releaseFreeMemory`: true when something was released; may throw. */
  release: () => boolean;
  /** How often to look; 0 = never (the trimmer does nothing). */
  intervalMs: number;
  /** CPU time used since the last look that counts as "something ran"; default 50 ms. */
  minCpuMs?: number | undefined;
  /** The process's CPU time (user + system) in ms; default `process.cpuUsage()`. */
  cpuMs?: (() => number) | undefined;
  /** Each trim, with how long it took. */
  onTrim?: ((durationMs: number, released: boolean) => void) | undefined;
  logger: { warn(obj: object, msg: string): void };
}

export const DEFAULT_TRIM_MIN_CPU_MS = 50;

const processCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export class MemoryTrimmer {
  private timer: NodeJS.Timeout | undefined;
  private startLook: NodeJS.Timeout | undefined;
  private lastCpuMs: number;
  private failed = false;
  private readonly cpuMs: () => number;
  private readonly minCpuMs: number;

  constructor(private readonly o: MemoryTrimmerOptions) {
    this.cpuMs = o.cpuMs ?? processCpuMs;
    this.minCpuMs = o.minCpuMs ?? DEFAULT_TRIM_MIN_CPU_MS;
    this.lastCpuMs = this.cpuMs();
  }

  /** Starts looking every `intervalMs` (an unref'd timer: it never keeps the process alive). */
  start(): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /**
   * One more look `delayMs` from now that counts all the CPU the process used since it began: start-up
   * (loading modules, protos, state recovery) is a busy period like any other, and its freed memory
   * (8–10 MiB on the node role) would otherwise stay until the first interval's look. Does nothing
   * when the trimmer is off (`intervalMs` 0); `stop` cancels it. An unref'd timer.
   */
  lookAfterStart(delayMs: number): void {
    if (this.o.intervalMs <= 0 || this.startLook) return;
    this.lastCpuMs = 0;
    this.startLook = setTimeout(() => this.tick(), delayMs);
    this.startLook.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.startLook);
    this.timer = undefined;
  }

  /**
   * One look: trims when at least `minCpuMs` of CPU was used since the previous look. Returns whether
   * it trimmed. A `release` that throws is logged once and never called again.
   */
  tick(): boolean {
    const now = this.cpuMs();
    const busy = now - this.lastCpuMs >= this.minCpuMs;
    if (!busy || this.failed) {
      this.lastCpuMs = now;
      return false;
    }
    const t0 = performance.now();
    let released: boolean;
    try {
      released = this.o.release();
    } catch (err) {
      this.failed = true;
      this.stop();
      this.o.logger.warn({ err: String(err) }, 'releasing free memory failed; memory trimming is off');
      return false;
    }
    this.o.onTrim?.(performance.now() - t0, released);
    // The trim's own CPU time must not count as activity, or the trimmer would keep itself busy.
    this.lastCpuMs = this.cpuMs();
    return true;
  }
}
