/**
 * V8 settings the product runs with, set from inside the process because NODE_OPTIONS refuses them
 * and every way of starting it (the images, the chart's Windows command, bin/csi-cert-driver, tests)
 * then gets them from one place. ADR 15.
 *
 * `--heap-growing-percent=20`: after each full GC, V8 lets the old generation grow to 1.2× what
 * survived before the next one (by default up to 4×, chosen from GC throughput). During a burst of
 * publishes the old generation fills with short-lived objects that survived two young-generation
 * GCs; with the default the heap grew to ~100 MiB around a 28 MiB live set, with 20 % it stays near
 * 40 MiB. A full GC of a heap this small is cheap and mostly concurrent.
 */
import v8 from 'node:v8';

export const V8_DEFAULTS: readonly string[] = ['--heap-growing-percent=20'];

/**
 * Applies each of `V8_DEFAULTS` that `execArgv` (node's own command-line flags) does not set, so an
 * operator's `node --heap-growing-percent=50 dist/main.mjs` wins. Returns the flags applied. Call it
 * first thing: V8 reads these when it sizes the heap after a GC.
 */
export function applyV8Defaults(
  execArgv: readonly string[] = process.execArgv,
  setFlags: (flag: string) => void = (f) => v8.setFlagsFromString(f),
): string[] {
  const name = (flag: string): string => flag.split('=')[0]!.replace(/_/g, '-');
  const given = new Set(execArgv.map(name));
  const applied = V8_DEFAULTS.filter((f) => !given.has(name(f)));
  for (const f of applied) setFlags(f);
  return applied;
}
