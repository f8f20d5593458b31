import { writeFile } from 'node:fs/promises';

/**
 * A tiny recorder for the checks that run under Wine with the Windows build of Node.js: each check
 * is named, timed and either passes or records why not. The Linux-side vitest test reads the JSON
 * this writes (node.exe's stdout is unreliable under Wine, a file is not).
 */

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  detail?: unknown;
  error?: string;
}

export interface RunResult {
  platform: string;
  node: string;
  checks: CheckResult[];
  facts: Record<string, unknown>;
}

export class Harness {
  readonly checks: CheckResult[] = [];
  readonly facts: Record<string, unknown> = {};

  /** Runs `fn` as one named check; what it returns is kept as the check's detail. */
  async check(name: string, fn: () => Promise<unknown>): Promise<void> {
    const start = Date.now();
    try {
      const detail = await fn();
      this.checks.push({
        name,
        ok: true,
        ms: Date.now() - start,
        ...(detail === undefined ? {} : { detail }),
      });
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.checks.push({ name, ok: false, ms: Date.now() - start, error });
    }
  }

  async write(path: string): Promise<RunResult> {
    const result: RunResult = {
      platform: process.platform,
      node: process.version,
      checks: this.checks,
      facts: this.facts,
    };
    await writeFile(path, JSON.stringify(result, null, 2));
    return result;
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export function assertEqual<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}

/** Awaits `promise`, which must reject with a PlatformError-shaped error of `kind`; returns its message. */
export async function expectKind(
  promise: Promise<unknown>,
  kind: string | string[],
  what: string,
): Promise<string> {
  const kinds = Array.isArray(kind) ? kind : [kind];
  try {
    await promise;
  } catch (e) {
    const got = (e as { kind?: unknown }).kind;
    if (typeof got !== 'string' || !kinds.includes(got)) {
      throw new Error(
        `${what}: expected a '${kinds.join("' or '")}' error, got ${String(got)}: ${String(e)}`,
      );
    }
    return `${got}: ${(e as Error).message}`;
  }
  throw new Error(`${what}: expected a '${kinds.join("' or '")}' error, but it succeeded`);
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const utf8 = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);
