import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadThreadScheduler } from '../src/index.js';

const scheduler = loadThreadScheduler();

/** The scheduling policy of thread `tid` of this process (field 41 of /proc/<pid>/task/<tid>/stat). */
function policyOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
}

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

describe.skipIf(process.platform !== 'linux' || scheduler === undefined)('loadThreadScheduler', () => {
  let worker: Worker;
  let tid: number;
  beforeAll(async () => {
    worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    tid = await new Promise<number>((resolve) => worker.once('message', resolve));
  });
  afterAll(() => worker.terminate());

  it('moves a thread of this process into SCHED_IDLE and back, leaving the others alone', () => {
    const set = scheduler as NonNullable<typeof scheduler>;
    expect(policyOf(tid)).toBe(SCHED_OTHER);
    set(tid, true);
    expect(policyOf(tid)).toBe(SCHED_IDLE);
    expect(policyOf(process.pid)).toBe(SCHED_OTHER);
    set(tid, false);
    expect(policyOf(tid)).toBe(SCHED_OTHER);
  });

  it.each([
    { name: 'zero (which the kernel reads as "the calling thread")', id: 0, want: /not a thread id/ },
    { name: 'negative', id: -1, want: /not a thread id/ },
    { name: 'fractional', id: 1.5, want: /not a thread id/ },
    { name: 'a thread that does not exist', id: 0x7ffffff0, want: /SCHED_IDLE\): ESRCH/ },
  ])('refuses $name with an error naming the reason', ({ id, want }) => {
    const set = scheduler as NonNullable<typeof scheduler>;
    expect(() => set(id, true)).toThrow(want);
    expect(policyOf(process.pid)).toBe(SCHED_OTHER);
  });
});
