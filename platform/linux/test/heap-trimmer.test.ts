import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadHeapTrimmer } from '../src/index.js';

const trimmer = loadHeapTrimmer();

/** This process's resident anonymous memory, MiB (/proc/self/status RssAnon). */
function rssAnonMiB(): number {
  const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1]) / 1024;
}

interface Koffi {
  load(path: string): { func(declaration: string): (...args: unknown[]) => unknown };
}

describe.runIf(process.platform === 'linux')('loadHeapTrimmer', () => {
  it('loads on glibc Linux with koffi installed (a dev dependency here)', () => {
    expect(trimmer).toBeTypeOf('function');
  });

  it('gives free pages in the middle of the C heap back to the kernel, and nothing in use', () => {
    const trim = trimmer as NonNullable<typeof trimmer>;
    // Real malloc/free through koffi: 64 MiB of 4 KiB blocks, written so they are resident, then all
    // freed except the last one, which pins the heap's top so free() alone cannot shrink it.
    const libc = (createRequire(import.meta.url)('koffi') as Koffi).load('libc.so.6');
    const malloc = libc.func('void *malloc(size_t size)');
    const free = libc.func('void free(void *ptr)');
    const memset = libc.func('void *memset(void *s, int c, size_t n)');
    const blocks: unknown[] = [];
    for (let i = 0; i < 16_384; i++) {
      const p = malloc(4000);
      memset(p, 0x5a, 4000);
      blocks.push(p);
    }
    const pinned = blocks.pop();
    for (const p of blocks) free(p);
    const before = rssAnonMiB();
    expect(trim()).toBe(true);
    const after = rssAnonMiB();
    expect(before - after).toBeGreaterThan(40);
    // The pinned block is still usable.
    memset(pinned, 0, 4000);
    free(pinned);
  });
});
