import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, RunResult } from './wine/harness.js';

/**
 * The Windows adapter on real Windows code paths: test/wine/adapter-check.ts is bundled with
 * esbuild and run by the Windows build of Node.js 22 under Wine (scripts/wine-node.sh); it writes
 * a JSON result that this Linux-side test asserts on. Needs `bash scripts/install-wine.sh` first.
 */

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const nodeExe = join(repo, '.cache/node-win/node.exe');
const prefixReady = join(repo, '.cache/wineprefix/.csi-cert-driver-ready');
const wineReady = existsSync(nodeExe) && existsSync(prefixReady) && hasWine();
const skipReason = 'Wine or the Windows node.exe is not installed: run `bash scripts/install-wine.sh`';

/** Linux path -> the same path on Wine's Z: drive. */
const onZ = (path: string) => `Z:${path.replaceAll('/', '\\')}`;

describe.skipIf(!wineReady)(
  `WindowsPlatform under Wine${wineReady ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let work: string;
    let result: RunResult;
    const check = (name: RegExp): CheckResult => {
      const found = result.checks.find((c) => name.test(c.name));
      if (!found)
        throw new Error(`no check matches ${name}; ran: ${result.checks.map((c) => c.name).join(', ')}`);
      return found;
    };

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'csi-wine-'));
      const bundle = join(work, 'adapter-check.mjs');
      await build({
        entryPoints: [fileURLToPath(new URL('./wine/adapter-check.ts', import.meta.url))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        outfile: bundle,
        // grpc-js is CommonJS and requires Node built-ins; an ESM bundle needs a real `require`.
        banner: {
          js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        },
        logLevel: 'silent',
      });
      const out = await run('bash', [
        join(repo, 'scripts/wine-node.sh'),
        bundle,
        onZ(join(work, 'result.json')),
        onZ(join(work, 'fs')),
      ]);
      const text = await readFile(join(work, 'result.json'), 'utf8').catch(() => {
        throw new Error(`node.exe wrote no result (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
      });
      result = JSON.parse(text) as RunResult;
    }, 180_000);

    afterAll(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    it('ran on the Windows build of Node.js 22', () => {
      expect(result.platform).toBe('win32');
      expect(result.node).toMatch(/^v22\./);
    });

    it('passes every check', () => {
      const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`);
      expect(failed).toEqual([]);
      expect(result.checks.length).toBeGreaterThanOrEqual(12);
    });

    it('serves and dials grpc-js on the named pipe from a second node.exe', () => {
      const detail = check(/named pipe/).detail as { address: string; otherProcess: string };
      expect(detail.address).toMatch(/^unix:\\\\\.\\pipe\\csi-cert-driver-wine-\d+\\csi\.sock$/);
      expect(detail.otherProcess).toMatch(/^server \d+ got: hello from pid \d+$/);
    });

    it('never lets a concurrent reader see a partial file', () => {
      const race = check(/concurrent reader/).detail as {
        torn: string[];
        reads: number;
        versionsSeen: number;
      };
      expect(race.torn).toEqual([]);
      expect(race.reads).toBeGreaterThan(0);
      expect(race.versionsSeen).toBeGreaterThan(2);
    });

    it('rejects bad Windows names with invalid-argument', () => {
      const messages = check(/bad names/).detail as string[];
      expect(messages[0]).toMatch(/^invalid-argument: .*reserved Windows device name/);
      expect(messages[1]).toMatch(/^invalid-argument: .*collide on Windows/);
      expect(messages[2]).toMatch(/^resource-exhausted:/);
      expect(messages[3]).toMatch(/^not-found:/);
    });

    // Known Wine gaps, named: icacls is a no-op and fs.symlink creates nothing. The adapter must
    // detect the first and report it once; it never relies on the second.
    it('detects that ACLs cannot be enforced under Wine and reports it once (Wine gap: icacls is a no-op)', () => {
      const acl = check(/ACLs/).detail as { aclStatus: string; warnings: string[] };
      expect(acl.aclStatus).toBe('unavailable');
      expect(acl.warnings).toHaveLength(1);
      // Recorded for docs/windows.md; Wine 8 answers 'reports success but creates nothing'.
      expect(result.facts['symlink']).toEqual(expect.any(String));
    });
  },
);

function hasWine(): boolean {
  return ['/usr/bin/wine', '/usr/bin/wine64', '/usr/lib/wine/wine64'].some((p) => existsSync(p));
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 170_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
