/**
 * Background threads: sched_setscheduler(2) with SCHED_IDLE, through koffi. A thread in SCHED_IDLE
 * runs only on a CPU that no normal thread wants and is preempted the moment one wakes up, which
 * `nice 19` alone does not promise: under the kernel's EEVDF scheduler a niced thread can still
 * finish its time slice (up to a few milliseconds) before a woken thread gets the CPU. The node
 * role's key pool uses this for its refill jobs (ADR 14), so pre-generating keys never delays a
 * publish that is running at the same time.
 */
import { loadLibcFunction } from './libc.js';

// <sched.h>
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** Moves OS thread `tid` of this process into SCHED_IDLE (`background`) or back to SCHED_OTHER. */
export type ThreadScheduler = (tid: number, background: boolean) => void;

/**
 * The scheduler, or undefined when koffi or libc is unavailable (or this is not Linux). The returned
 * function throws an Error naming the errno when the kernel refuses (ESRCH for an unknown thread;
 * EPERM when leaving SCHED_IDLE without CAP_SYS_NICE or a high enough RLIMIT_NICE).
 */
export function loadThreadScheduler(resolveFrom?: string): ThreadScheduler | undefined {
  const setScheduler = loadLibcFunction(
    'int sched_setscheduler(int pid, int policy, const int *param)',
    resolveFrom,
  );
  if (setScheduler === undefined) return undefined;
  return (tid, background) => {
    if (!Number.isSafeInteger(tid) || tid <= 0) throw new Error(`not a thread id: ${tid}`);
    // struct sched_param { int sched_priority; }: 0 for both policies.
    if (setScheduler.call(tid, background ? SCHED_IDLE : SCHED_OTHER, [0]) !== 0) {
      throw new Error(
        `sched_setscheduler(${tid}, ${background ? 'SCHED_IDLE' : 'SCHED_OTHER'}): ${setScheduler.libc.errnoName()}`,
      );
    }
  };
}
