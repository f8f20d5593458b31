/**
 * kubernetes-csi/csi-test's csi-sanity against the node role started by the harness, with the command
 * line of docs/csi-sanity.md (only the controller specs that cannot apply to a node-only driver are
 * skipped). Asserts the exit code and reads the JUnit report: no failures and some passed specs.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from './support/harness.js';
import { mountsUnder } from './support/host.js';
import { CSI_SANITY } from './support/repo.js';

interface SanityRun {
  code: number;
  output: string;
}

function runSanity(args: string[]): Promise<SanityRun> {
  return new Promise((resolve) => {
    execFile(CSI_SANITY, args, { timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, output: `${stdout}\n${stderr}` });
    });
  });
}

interface SpecResult {
  name: string;
  status: string;
  failed: boolean;
}

/** The testcases of a Ginkgo JUnit report with their status (`passed`, `skipped`, `failed`, ...). */
function parseJunit(xml: string): SpecResult[] {
  const cases: SpecResult[] = [];
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attrs = m[1] ?? '';
    const body = m[3] ?? '';
    const name = /\bname="([^"]*)"/.exec(attrs)?.[1] ?? '';
    const status = /\bstatus="([^"]*)"/.exec(attrs)?.[1] ?? 'unknown';
    cases.push({ name, status, failed: /<(failure|error)\b/.test(body) || status === 'failed' });
  }
  return cases;
}

const haveSanity = existsSync(CSI_SANITY);

describe('csi-sanity against the node role', () => {
  let h: Harness | undefined;

  beforeAll(async () => {
    if (haveSanity) h = await Harness.start({ suite: 'csi-sanity' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('passes with only the controller specs skipped', async (ctx) => {
    if (!haveSanity || !h) {
      ctx.skip(`${CSI_SANITY} is missing; run 'bash scripts/install-go-tools.sh' (scripts/test.sh does)`);
      return;
    }
    // The sanity dirs must not exist (sanity mkdirs them before every spec); their parent must.
    const dir = join(h.root, 'sanity');
    mkdirSync(dir);
    const report = join(h.logDir, 'csi-sanity.junit.xml');
    const run = await runSanity([
      `--csi.endpoint=${h.csiEndpoint}`,
      `--csi.mountdir=${join(dir, 'csi-mount')}`,
      `--csi.stagingdir=${join(dir, 'csi-staging')}`,
      '--ginkgo.skip=\\[Controller Server\\]',
      '--ginkgo.skip=NodeUnpublishVolume should remove target path',
      '--ginkgo.no-color',
      `--ginkgo.junit-report=${report}`,
    ]);
    expect(run.code, run.output.slice(-4000)).toBe(0);
    expect(run.output).toMatch(/SUCCESS!/);

    const specs = parseJunit(readFileSync(report, 'utf8'));
    const failed = specs.filter((s) => s.failed);
    const passed = specs.filter((s) => s.status === 'passed');
    expect(failed.map((s) => s.name)).toEqual([]);
    expect(passed.length).toBeGreaterThan(0);
    // The specs that apply to a node-only driver did run: Identity, node info and the argument checks.
    for (const expected of [
      /Identity Service.*GetPluginInfo/,
      /Node Service.*NodeGetInfo/,
      /NodePublishVolume/,
    ]) {
      expect(
        passed.map((s) => s.name).some((n) => expected.test(n)),
        `a passed spec matching ${expected}`,
      ).toBe(true);
    }
    // Sanity's negative publishes must not have mounted anything.
    expect(mountsUnder(h.root)).toEqual([]);
  });
});
