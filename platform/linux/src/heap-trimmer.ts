/**
 * Returning freed heap memory to the kernel: glibc's malloc_trim(3), through koffi. glibc keeps
 * memory that native code (OpenSSL, grpc's buffers, V8's off-heap allocations, libuv) freed inside
 * its arenas for reuse, so after a burst of publishes or a renewal wave a node's resident set stays
 * at the burst's high-water mark for hours. malloc_trim(0) gives every whole free page of every
 * arena back (madvise(MADV_DONTNEED)); nothing in use moves. The node role calls it only after a
 * period that did work (`MemoryTrimmer`, ADR 15), never while idle.
 */
import { loadLibcFunction } from './libc.js';

/** Gives free heap pages back to the kernel; true when some memory was released. */
export type HeapTrimmer = () => boolean;

/**
 * The trimmer, or undefined when koffi or libc is unavailable, this is not Linux, or the C library is
 * not glibc (musl has no malloc_trim; its allocator returns memory by itself).
 */
export function loadHeapTrimmer(resolveFrom?: string): HeapTrimmer | undefined {
  const mallocTrim = loadLibcFunction('int malloc_trim(size_t pad)', resolveFrom);
  return mallocTrim && (() => mallocTrim.call(0) === 1);
}
