/**
 * The node role of the built product serves CSI without NestJS (docs/adr/0023-node-role-without-nestjs.md):
 * a module-resolution hook in the driver process (NODE_OPTIONS=--import) prints a marker whenever a
 * watched package is resolved. Until the REST API's first request the node resolves neither
 * @nestjs/* nor rxjs nor reflect-metadata, and starts no key-pool thread; the first API request
 * loads NestJS (the hook's positive control) and is answered as before. Fails against a bundle in
 * which any module the node role imports statically imports NestJS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverCommand, ensureBuilt } from './support/repo.js';

const WATCHED = ['@nestjs/core', '@nestjs/common', '@nestjs/microservices', 'rxjs', 'reflect-metadata'];
const dir = mkdtempSync(join(tmpdir(), 'ccd-no-nest-'));
const hook = join(dir, 'hook.mjs');
let child: ChildProcess | undefined;
let output = '';

/** Resolves once `text` shows up in the node's output (rejects after 60 s or when it exits). */
function waitFor(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      if (output.includes(text)) return resolve();
      if (child?.exitCode !== null || Date.now() - started > 60_000)
        return reject(new Error(`no '${text}' in the node's output:\n${output}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}

beforeAll(() => {
  ensureBuilt();
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
const watched = new Set(${JSON.stringify(WATCHED)});
registerHooks({
  resolve(specifier, context, next) {
    if (watched.has(specifier)) process.stderr.write('RESOLVED ' + specifier + '\\n');
    return next(specifier, context);
  },
});
`,
  );
  const { file, args } = driverCommand('node');
  child = spawn(file, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LOG_LEVEL: 'info',
      NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`,
      CSI_ENDPOINT: `unix://${join(dir, 'csi.sock')}`,
      NODE_ID: 'no-nest-node',
      CERT_SERVICE_ADDR: '127.0.0.1:9',
      CERT_BASE_PATH: join(dir, 'base'),
      API_LISTEN_ADDR: '127.0.0.1:0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
});
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('the node role without NestJS', () => {
  it('serves CSI and listens for the API without resolving NestJS, rxjs or reflect-metadata', async () => {
    await waitFor('node driver serving CSI');
    await waitFor('API serving');
    for (const pkg of WATCHED) expect(output).not.toContain(`RESOLVED ${pkg}\n`);
    // The key pool's thread and warm keys wait for the first publish.
    expect(output).not.toContain('key pool created');
  }, 90_000);

  it('loads NestJS on the first API request and answers it', async () => {
    const url = /"url":"(http:\/\/[^"]+)"[^\n]*API serving/.exec(output)?.[1];
    expect(url).toBeDefined();
    const res = await fetch(`${url}/api/v1/node`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { nodeId: string }).nodeId).toBe('no-nest-node');
    expect(output).toContain('RESOLVED @nestjs/core\n');
    // Still read-only: the Nest middleware answers a mutating verb before routing.
    expect((await fetch(`${url}/api/v1/node`, { method: 'POST' })).status).toBe(405);
  }, 90_000);
});
