/**
 * libc through the optional `koffi` FFI package, for the few calls Node.js has no API for (mount(2),
 * umount2(2), sched_setscheduler(2), glibc's malloc_trim(3)). Loaded once per process; undefined when this is not
 * Linux, koffi is not installed, or libc cannot be opened, and every caller then has a fallback.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';

/** The part of koffi's API used here, declared locally so koffi stays an optional dependency. */
interface Koffi {
  load(path: string): { func(declaration: string): (...args: unknown[]) => number };
  errno(): number;
}

export interface Libc {
  /** A libc function from its C declaration. */
  func(declaration: string): (...args: unknown[]) => number;
  /** The symbolic name of the calling thread's errno (`EPERM`), or `errno <n>`. */
  errnoName(): string;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const loaded = new Map<string, Libc | undefined>();

/** libc with koffi resolved from `resolveFrom` (this module by default); undefined when unavailable. */
export function loadLibc(resolveFrom: string = import.meta.url): Libc | undefined {
  if (process.platform !== 'linux') return undefined;
  if (loaded.has(resolveFrom)) return loaded.get(resolveFrom);
  let libc: Libc | undefined;
  try {
    const koffi = createRequire(resolveFrom)('koffi') as Koffi;
    const lib = koffi.load('libc.so.6');
    libc = {
      func: (declaration) => lib.func(declaration),
      errnoName: () => {
        const errno = koffi.errno();
        return errnoNames.get(errno) ?? `errno ${errno}`;
      },
    };
  } catch {
    libc = undefined;
  }
  loaded.set(resolveFrom, libc);
  return libc;
}

/**
 * One libc function from its C declaration, with the libc it came from (for errno names); undefined
 * when libc is unavailable or has no such function (musl has no malloc_trim).
 */
export function loadLibcFunction(
  declaration: string,
  resolveFrom?: string,
): { call: (...args: unknown[]) => number; libc: Libc } | undefined {
  const libc = loadLibc(resolveFrom);
  if (libc === undefined) return undefined;
  try {
    return { call: libc.func(declaration), libc };
  } catch {
    return undefined;
  }
}
