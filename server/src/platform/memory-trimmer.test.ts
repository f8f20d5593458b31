import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TRIM_MIN_CPU_MS, MemoryTrimmer } from './memory-trimmer.js';

/** A trimmer over a scripted CPU clock; `release` costs `trimCpuMs` of CPU when it runs. */
function rig(o: { trimCpuMs?: number; release?: () => boolean; intervalMs?: number } = {}) {
  let cpu = 1000;
  const calls: number[] = [];
  const trims: { ms: number; released: boolean }[] = [];
  const warnings: string[] = [];
  const trimmer = new MemoryTrimmer({
    release:
      o.release ??
      (() => {
        calls.push(cpu);
        cpu += o.trimCpuMs ?? 0;
        return true;
      }),
    intervalMs: o.intervalMs ?? 10_000,
    cpuMs: () => cpu,
    onTrim: (ms, released) => trims.push({ ms, released }),
    logger: { warn: (_obj, msg) => warnings.push(msg) },
  });
  return { trimmer, calls, trims, warnings, spend: (ms: number) => (cpu += ms) };
}

/** A rig started with `intervalMs` on fake interval timers. */
function startedRig(intervalMs: number) {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const r = rig({ intervalMs });
  r.trimmer.start();
  return r;
}

describe('MemoryTrimmer', () => {
  afterEach(() => vi.useRealTimers());

  it.each([
    { name: 'idle (no CPU used)', used: [0], want: [false] },
    { name: 'a little work, below the threshold', used: [DEFAULT_TRIM_MIN_CPU_MS - 1], want: [false] },
    { name: 'a busy period', used: [DEFAULT_TRIM_MIN_CPU_MS], want: [true] },
    { name: 'busy, then idle: one trim, then none', used: [400, 0, 0], want: [true, false, false] },
    { name: 'small amounts do not add up across looks', used: [30, 30, 30], want: [false, false, false] },
    { name: 'a sustained wave trims at every look', used: [200, 200, 200], want: [true, true, true] },
  ])('$name', ({ used, want }) => {
    const r = rig();
    const got = used.map((ms) => (r.spend(ms), r.trimmer.tick()));
    expect(got).toEqual(want);
    expect(r.trims).toHaveLength(want.filter(Boolean).length);
  });

  it("does not count the trim's own CPU time as activity", () => {
    const r = rig({ trimCpuMs: 500 });
    r.spend(100);
    expect(r.trimmer.tick()).toBe(true);
    expect(r.trimmer.tick()).toBe(false);
    expect(r.calls).toHaveLength(1);
  });

  it('reports whether memory was released', () => {
    const r = rig({ release: () => false });
    r.spend(100);
    r.trimmer.tick();
    expect(r.trims).toEqual([{ ms: expect.any(Number), released: false }]);
  });

  it('stops for good after release throws, with one warning', () => {
    let n = 0;
    const r = rig({
      release: () => {
        n++;
        throw new Error('malloc_trim: boom');
      },
    });
    for (let i = 0; i < 3; i++) {
      r.spend(100);
      expect(r.trimmer.tick()).toBe(false);
    }
    expect(n).toBe(1);
    expect(r.warnings).toEqual(['releasing free memory failed; memory trimming is off']);
  });

  it('looks every intervalMs once started, and never after stop', () => {
    const r = startedRig(10_000);
    r.spend(100);
    vi.advanceTimersByTime(9_999);
    expect(r.calls).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(r.calls).toHaveLength(1);
    r.trimmer.stop();
    r.spend(100);
    vi.advanceTimersByTime(60_000);
    expect(r.calls).toHaveLength(1);
  });

  it('looks once delayMs after start-up, counting the CPU start-up used, then every intervalMs', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const r = rig({ intervalMs: 10_000 }); // the scripted clock stands at 1,000 ms of CPU: start-up
    r.trimmer.start();
    r.trimmer.lookAfterStart(1_000);
    vi.advanceTimersByTime(999);
    expect(r.calls).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(r.calls).toHaveLength(1);
    vi.advanceTimersByTime(9_000); // the interval's first look: idle since
    expect(r.calls).toHaveLength(1);
    expect(r.trims).toHaveLength(1);
  });

  it('without a start-up look, the CPU used before the trimmer existed does not count', () => {
    const r = rig();
    expect(r.trimmer.tick()).toBe(false);
  });

  it('stop cancels a pending start-up look; with intervalMs 0 there is none', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const r = rig();
    r.trimmer.lookAfterStart(1_000);
    r.trimmer.stop();
    const off = rig({ intervalMs: 0 });
    off.trimmer.lookAfterStart(1_000);
    vi.advanceTimersByTime(60_000);
    expect(r.calls).toHaveLength(0);
    expect(off.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('with intervalMs 0 never starts a timer', () => {
    const r = startedRig(0);
    r.spend(1000);
    vi.advanceTimersByTime(600_000);
    expect(r.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
