/**
 * The kubelet stand-in on the Windows side: bundled with esbuild and run by the Windows build of
 * Node.js under Wine (a Linux process cannot reach a Wine named pipe). It reads a plan of CSI calls
 * from a JSON file, waits until the node answers Probe ready on the pipe, makes the calls in order
 * and writes every outcome, with a listing of the target directory as Windows sees it, to a JSON
 * file that the Linux-side test asserts on (node.exe's stdout is unreliable under Wine, a file is not).
 *
 *   node.exe rpc-runner.mjs <plan.json> <result.json>
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { CsiClient } from '../../support/product.js';
import type { RunnerPlan, RunnerResult, StepResult } from './runner-protocol.js';

const GRPC_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls Probe until it says ready; returns how long that took. Throws after `timeoutMs`. */
async function waitReady(address: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < timeoutMs) {
    const probe = new CsiClient(address, 2_000);
    try {
      const res = await probe.call<{ ready?: { value?: boolean } }>('Identity', 'Probe');
      if (res.ready?.value === true) return Date.now() - start;
      last = 'Probe answered not ready';
    } catch (e) {
      last = (e as Error).message;
    } finally {
      probe.close();
    }
    await sleep(500);
  }
  throw new Error(`the node did not answer Probe ready on ${address} within ${timeoutMs} ms: ${last}`);
}

/** The directory's file names as Windows lists them, or `exists: false`. */
async function listing(dir: string): Promise<StepResult['listing']> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return { dir, exists: false, files: [] };
  if (!info.isDirectory()) return { dir, exists: true, files: [], notADirectory: true };
  return { dir, exists: true, files: (await readdir(dir)).sort() };
}

async function main(planFile: string, resultFile: string): Promise<void> {
  const plan = JSON.parse(await readFile(planFile, 'utf8')) as RunnerPlan;
  const result: RunnerResult = {
    platform: process.platform,
    node: process.version,
    address: plan.address,
    readyAfterMs: -1,
    results: [],
  };
  try {
    result.readyAfterMs = await waitReady(plan.address, plan.readyTimeoutMs);
    const client = new CsiClient(plan.address, plan.callTimeoutMs);
    try {
      for (const step of plan.steps) {
        const start = Date.now();
        const out: StepResult = { id: step.id, code: 0, codeName: 'OK', details: '', ms: 0 };
        try {
          out.response = await client.call(step.service, step.method, step.request);
        } catch (e) {
          const err = e as { code?: unknown; details?: unknown; message?: unknown };
          out.code = typeof err.code === 'number' ? err.code : -1;
          out.codeName = GRPC_CODE_NAMES[out.code] ?? `NOT_A_GRPC_ERROR`;
          out.details = String(err.details ?? err.message ?? e);
        }
        out.ms = Date.now() - start;
        if (step.listDir) out.listing = await listing(step.listDir);
        result.results.push(out);
      }
    } finally {
      client.close();
    }
  } catch (e) {
    result.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  await writeFile(resultFile, JSON.stringify(result, null, 2));
}

const [planFile, resultFile] = process.argv.slice(2);
if (!planFile || !resultFile) {
  console.error('usage: rpc-runner.mjs <plan.json> <result.json>');
  process.exit(2);
}
main(planFile, resultFile).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
