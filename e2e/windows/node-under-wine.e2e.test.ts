/**
 * The node role on the Windows code path, end to end: the built `dist/main.mjs` runs under Wine
 * with the Windows build of Node.js 22 (WindowsPlatform, a named pipe, Windows paths on C: and Z:),
 * the issuer runs as a normal Linux process on TCP loopback, and a kubelet stand-in bundled for
 * Windows (wine/rpc-runner.ts) makes the CSI calls on the pipe, because a Linux process cannot reach
 * a Wine named pipe. The runner writes each outcome to a JSON file; this test asserts on it and
 * judges the files on disk with OpenSSL. Then the node is SIGKILLed, restarted on the same
 * CERT_BASE_PATH, and must recover, republish idempotently and unpublish cleanly.
 * Needs `bash scripts/install-wine.sh`; skipped, saying so, without Wine.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverProcess } from '../support/driver-process.js';
import { makeCa, serialOf } from '../support/openssl.js';
import { kubeletPublishRequest } from '../support/product.js';
import { REPO_ROOT, ensureBuilt } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
import type { RunnerStep, StepResult } from './wine/runner-protocol.js';
import {
  BAD,
  CLUSTER_DOMAIN,
  DEFAULT_WANT,
  GOOD,
  IDENTITY,
  NODE_ID,
  UNIMPLEMENTED,
  a,
  type Want,
} from './rpc-table.js';
import { WinLayout, type WinVolume } from './support/layout.js';
import { WINE_SKIP_REASON, bundleForWindows, linuxPathOf, runRunner, wineReady } from './support/wine.js';
import { WineNodeProcess } from './support/wine-node-process.js';
import {
  MANIFEST,
  expectCertificate,
  expectNothingOf,
  expectPlainFiles,
  fileList,
  hashes,
  pemBodyLines,
} from './support/checks.js';

/** One folder of logs per run (runs may overlap: other suites run this file too). */
const LOG_ROOT = join(REPO_ROOT, 'test-results', 'e2e', 'windows-node');
const START_TIMEOUT_MS = 240_000;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const names = (field: string): RegExp => new RegExp(`^${escape(field)}: `);

interface Published {
  vol: WinVolume;
  attributes: Record<string, string>;
  want: Want;
}

describe.skipIf(!wineReady)(
  `the node role under Wine with the Windows node.exe${wineReady ? '' : ` (skipped: ${WINE_SKIP_REASON})`}`,
  () => {
    let layout: WinLayout;
    let logDir: string;
    let issuer: DriverProcess | undefined;
    let node: WineNodeProcess | undefined;
    let nodeStarts = 0;
    let bundle: string;
    let caCert: string;
    let pipe: string;
    const steps: RunnerStep[] = [];
    const results = new Map<string, StepResult>();
    const good: Published[] = [];
    let renewing: Published;
    const bad: { vol: WinVolume; id: string }[] = [];
    let conflict: { vol: WinVolume; elsewhere: WinVolume };
    let cycle: WinVolume;

    const r = (id: string): StepResult => {
      const res = results.get(id);
      if (!res) throw new Error(`no result for step ${id}`);
      return res;
    };
    const step = (s: RunnerStep): void => void steps.push(s);
    const publishStep = (id: string, vol: WinVolume, attributes: Record<string, string>): RunnerStep => ({
      id,
      service: 'Node',
      method: 'NodePublishVolume',
      request: kubeletPublishRequest({ ...vol, attributes }),
      listDir: vol.targetPath,
    });
    const unpublishStep = (id: string, vol: Pick<WinVolume, 'volumeId' | 'targetPath'>): RunnerStep => ({
      id,
      service: 'Node',
      method: 'NodeUnpublishVolume',
      request: { volume_id: vol.volumeId, target_path: vol.targetPath },
      listDir: vol.targetPath,
    });

    async function startNode(): Promise<WineNodeProcess> {
      nodeStarts++;
      node = new WineNodeProcess(
        {
          LOG_LEVEL: 'debug',
          CSI_ENDPOINT: `\\\\.\\pipe\\${pipe}`,
          NODE_ID,
          CERT_SERVICE_ADDR: issuer!.options.settings.LISTEN_ADDR!,
          CERT_BASE_PATH: layout.certBasePath,
          CLUSTER_DOMAIN,
          VOLUME_SIZE: '1Mi',
          ISSUER_TIMEOUT: '10s',
          API_LISTEN_ADDR: 'off',
        },
        join(logDir, `node-${nodeStarts}.log`),
        join(layout.work, 'cwd'),
      );
      await node.waitServing(START_TIMEOUT_MS);
      return node;
    }

    /** Runs `plan` steps in the Windows runner and files the results by step id. */
    async function run(label: string, planSteps: RunnerStep[]): Promise<void> {
      const { result } = await runRunner(
        bundle,
        {
          address: `unix:\\\\.\\pipe\\${pipe}`,
          readyTimeoutMs: 60_000,
          callTimeoutMs: 60_000,
          steps: planSteps,
        },
        layout.work,
        label,
      );
      if (result.error)
        throw new Error(`runner ${label}: ${result.error}\n--- node log ---\n${node?.tail()}`);
      expect(result.platform).toBe('win32');
      for (const res of result.results) results.set(res.id, res);
    }

    beforeAll(async () => {
      ensureBuilt();
      layout = new WinLayout();
      logDir = join(LOG_ROOT, basename(layout.work));
      pruneOldLogs();
      mkdirSync(logDir, { recursive: true });
      mkdirSync(join(layout.work, 'cwd'));
      pipe = `csi-cert-driver-e2e-${layout.work.slice(-6)}`;
      caCert = join(layout.work, 'ca.crt');
      await makeCa(caCert, join(layout.work, 'ca.key'), 'csi-cert-driver Windows e2e CA');
      const listen = `127.0.0.1:${await freePort()}`;
      issuer = new DriverProcess({
        role: 'issuer',
        cwd: join(layout.work, 'cwd'),
        logFile: join(logDir, 'issuer.log'),
        settings: {
          LOG_LEVEL: 'info',
          LISTEN_ADDR: listen,
          CA_CERT_FILE: caCert,
          CA_KEY_FILE: join(layout.work, 'ca.key'),
          ISSUER_AUTH: 'none',
        },
      });
      const runner = fileURLToPath(new URL('./wine/rpc-runner.ts', import.meta.url));
      [bundle] = await Promise.all([
        bundleForWindows(runner, join(layout.work, 'runner'), 'rpc-runner'),
        waitFor('the issuer to serve', () => issuer!.logLines().find((l) => l.msg === 'issuer serving'), {
          timeoutMs: 30_000,
        }),
      ]);
      await startNode();

      for (const c of IDENTITY)
        step({ id: `identity:${c.method}`, service: c.service, method: c.method, request: {} });
      for (const u of UNIMPLEMENTED)
        step({ id: `unimpl:${u.method}`, service: 'Node', method: u.method, request: u.req });
      GOOD.forEach((c, i) => {
        const vol = layout.newVolume(layout.newPod(), { drive: c.drive ?? 'C', name: c.volumeName });
        good.push({ vol, attributes: c.attributes, want: { ...DEFAULT_WANT, ...c.want } });
        step(publishStep(`good:${i}`, vol, c.attributes));
      });
      // Renewed every ~20 s: notAfter is 60 s away, renew-before 40 s.
      const renewAttrs = { [a('duration')]: '1m', [a('renew-before')]: '40s' };
      renewing = {
        vol: layout.newVolume(),
        attributes: renewAttrs,
        want: { ...DEFAULT_WANT, durationSeconds: 60 },
      };
      step(publishStep('renew:publish', renewing.vol, renewAttrs));
      BAD.forEach((c, i) => {
        const vol = layout.newVolume();
        const req = kubeletPublishRequest({ ...vol, attributes: c.attributes ?? {} }) as Record<
          string,
          unknown
        >;
        if (c.target) req.target_path = c.target(vol);
        c.mutate?.(req);
        bad.push({ vol, id: `bad:${i}` });
        step({ id: `bad:${i}`, service: 'Node', method: 'NodePublishVolume', request: req });
      });
      const first = good[0]!;
      step(publishStep('idem:again', first.vol, first.attributes));
      step({ ...publishStep('conflict:attrs', first.vol, { [a('duration')]: '48h' }), listDir: undefined });
      conflict = { vol: first.vol, elsewhere: layout.newVolume(first.vol.pod, { name: 'other' }) };
      step(
        publishStep(
          'conflict:path',
          { ...first.vol, targetPath: conflict.elsewhere.targetPath },
          first.attributes,
        ),
      );
      cycle = layout.newVolume();
      step(publishStep('cycle:publish', cycle, {}));
      step(unpublishStep('cycle:unpublish', cycle));
      step(unpublishStep('cycle:unpublish-again', cycle));
      step(unpublishStep('unpub:never-seen', layout.newVolume()));
      step({
        ...unpublishStep('unpub:no-target', { volumeId: 'csi-x', targetPath: '' }),
        listDir: undefined,
      });
      step({
        ...unpublishStep('unpub:reserved', { ...layout.newVolume(), targetPath: 'C:\\k\\CON' }),
        listDir: undefined,
      });
      await run('first', steps);
    }, 600_000);

    afterAll(async () => {
      await node?.kill();
      await issuer?.kill('SIGKILL');
      layout?.remove();
    });

    describe('first start', () => {
      it('runs dist/main.mjs on win32 with Node.js 22, serving on the named pipe, issuer on Linux loopback', () => {
        const serving = node!.logLines().find((l) => l.msg === 'node driver serving CSI')!;
        expect(serving.endpoint).toBe(`unix:\\\\.\\pipe\\${pipe}`);
        expect(serving.issuer).toBe(issuer!.options.settings.LISTEN_ADDR);
        expect(readFileSync(join(layout.work, 'first.result.json'), 'utf8')).toMatch(/"node": "v22\./);
      });

      it.each(IDENTITY)('$service.$method answers OK', async ({ method, check }) => {
        const res = r(`identity:${method}`);
        expect(res.codeName, res.details).toBe('OK');
        await check(res.response as Record<string, unknown>);
      });

      it.each(UNIMPLEMENTED)('Node.$method answers UNIMPLEMENTED', ({ method }) => {
        expect(r(`unimpl:${method}`).codeName).toBe('UNIMPLEMENTED');
      });

      it.each(GOOD.map((c, i) => ({ ...c, i })))('publishes: $name', async ({ i }) => {
        const { vol, want } = good[i]!;
        const res = r(`good:${i}`);
        expect(res.codeName, res.details).toBe('OK');
        expect(res.listing?.files, 'files as Windows lists them').toEqual(
          [MANIFEST, ...fileList(want.files)].sort(),
        );
        expectPlainFiles(vol, want.files);
        const serial = await expectCertificate(vol, want, caCert, layout.work);
        const state = layout.readState<{
          phase: string;
          targetPath: string;
          certificate: { serialHex: string };
          history: { kind: string }[];
        }>(vol.volumeId);
        expect(state).toMatchObject({ phase: 'published', targetPath: vol.targetPath });
        expect(state.certificate.serialHex.replace(/^0+/, '')).toBe(serial);
        expect(
          state.history.map((e) => e.kind),
          'issued once (republish kept it)',
        ).toEqual(['issue']);
        const stateText = readFileSync(layout.stateFile(vol.volumeId), 'utf8');
        for (const line of pemBodyLines(join(vol.linuxTarget, want.files.privateKey))) {
          expect(stateText.includes(line), 'key material in the state file').toBe(false);
          expect(node!.logText().includes(line), 'key material in the node log').toBe(false);
        }
      });

      it.each(BAD.map((c, i) => ({ ...c, i })))(
        'refuses with INVALID_ARGUMENT: $name',
        ({ i, field, reason }) => {
          const res = r(`bad:${i}`);
          expect(res.codeName, res.details).toBe('INVALID_ARGUMENT');
          expect(res.details).toMatch(names(field));
          if (reason) expect(res.details).toMatch(reason);
          expectNothingOf(bad[i]!.vol, layout.stateFile(bad[i]!.vol.volumeId));
        },
      );

      it('left nothing of a refused publish anywhere: no escape directory, nothing in the working directory', () => {
        expect(readdirSync(join(layout.work, 'cwd')), "the node's working directory").toEqual([]);
        expect(existsSync(join(linuxPathOf(layout.kubeletRoot('C')), 'pods', 'escape'))).toBe(false);
      });

      it('republishing a published volume is OK and keeps its certificate', () => {
        const res = r('idem:again');
        expect(res.codeName, res.details).toBe('OK');
        expect(res.listing?.files).toEqual(r('good:0').listing?.files);
      });

      it('the same volume id with other attributes or at another path is ALREADY_EXISTS, creating nothing', () => {
        expect(r('conflict:attrs').codeName).toBe('ALREADY_EXISTS');
        const elsewhere = r('conflict:path');
        expect(elsewhere.codeName, elsewhere.details).toBe('ALREADY_EXISTS');
        expect(elsewhere.listing?.exists).toBe(false);
        expect(existsSync(conflict.elsewhere.linuxTarget)).toBe(false);
      });

      it('unpublish removes every file and the directory; a second unpublish is OK', () => {
        expect(r('cycle:publish').codeName).toBe('OK');
        expect(r('cycle:publish').listing?.files).toEqual([MANIFEST, 'ca.crt', 'tls.crt', 'tls.key']);
        for (const id of ['cycle:unpublish', 'cycle:unpublish-again']) {
          expect(r(id).codeName, r(id).details).toBe('OK');
          expect(r(id).listing?.exists).toBe(false);
        }
        expectNothingOf(cycle, layout.stateFile(cycle.volumeId));
        expect(r('unpub:never-seen').codeName).toBe('OK');
      });

      it('a bad unpublish is INVALID_ARGUMENT', () => {
        expect(r('unpub:no-target').codeName).toBe('INVALID_ARGUMENT');
        expect(r('unpub:no-target').details).toMatch(names('target_path'));
        expect(r('unpub:reserved').codeName, r('unpub:reserved').details).toBe('INVALID_ARGUMENT');
        expect(r('unpub:reserved').details).toMatch(/reserved Windows device name/);
      });

      it('renews a certificate on the Windows path: files replaced in place, chain still valid', async () => {
        expect(r('renew:publish').codeName, r('renew:publish').details).toBe('OK');
        type State = { certificate: { serialHex: string }; history: { kind: string; outcome: string }[] };
        const { vol, want } = renewing;
        const renewed = await waitFor(
          'a successful renewal in the state history',
          () => {
            const s = layout.readState<State>(vol.volumeId);
            return s.history.some((e) => e.kind === 'renew' && e.outcome === 'success') ? s : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
        expect(renewed.history.filter((e) => e.outcome !== 'success')).toEqual([]);
        // A renewal may land between reading the state and reading the file: retry until both agree.
        await waitFor('the state and the certificate on disk to agree', async () => {
          const before = layout.readState<State>(vol.volumeId).certificate.serialHex.replace(/^0+/, '');
          const serial = await expectCertificate(vol, want, caCert, layout.work);
          return serial === before ? true : undefined;
        });
        expectPlainFiles(vol, want.files);
      });

      it('logs once that ACLs are not enforced (Wine gap: icacls is a no-op)', () => {
        const warnings = node!.logLines().filter((l) => l.platform === 'windows' && /ACLs/.test(l.msg));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.msg).toMatch(/icacls is a no-op/);
      });

      it.skip('volume files readable only by SYSTEM, Administrators and aclReaderSids (Wine gap: icacls is a no-op, there is no ACL to check)', () => {});
      it.skip('a reader never sees a mixed file set via a symlink swap (Wine gap: fs.symlink creates nothing; the adapter uses per-file renames, see platform/windows/test/wine.test.ts)', () => {});
      it.skip('the pod cannot write the volume (not the driver: kubelet/the container runtime enforce readOnly on Windows; nothing to run under Wine)', () => {});
    });

    describe('after SIGKILL of node.exe and a restart on the same CERT_BASE_PATH', () => {
      const survivors = (): Published[] => [...good, renewing];
      let before: Record<string, Record<string, string>>;

      beforeAll(async () => {
        before = Object.fromEntries(good.map((p) => [p.vol.volumeId, hashes(p.vol)]));
        const exit = await node!.kill();
        expect(exit.signal).toBe('SIGKILL');
        await startNode();
        await run(
          'recover',
          survivors().map((p, i) => publishStep(`recover:${i}`, p.vol, p.attributes)),
        );
      }, 600_000);

      it('recovers every published volume from its state', () => {
        const line = node!.logLines().find((l) => l.msg === 'state recovered')!;
        // The renewing volume may have been killed mid-renewal; then it is rolled back and republished.
        expect(Number(line.recovered)).toBeGreaterThanOrEqual(good.length);
        expect(Number(line.recovered) + Number(line.rolledBack)).toBe(good.length + 1);
        expect(line.corrupt).toBe(0);
      });

      it.each(GOOD.map((c, i) => ({ ...c, i })))('republish is OK, files intact: $name', async ({ i }) => {
        const { vol, want } = good[i]!;
        const res = r(`recover:${i}`);
        expect(res.codeName, res.details).toBe('OK');
        expect(hashes(vol), 'every file byte for byte as before the kill').toEqual(before[vol.volumeId]);
        expect(layout.readState<{ history: unknown[] }>(vol.volumeId).history).toHaveLength(1);
        expect(await serialOf(join(vol.linuxTarget, want.files.certificate))).toMatch(/^[0-9a-f]+$/);
      });

      it('the renewing volume is published again with a valid certificate', async () => {
        expect(r(`recover:${good.length}`).codeName).toBe('OK');
        await waitFor('state and certificate to agree', async () => {
          const s = layout.readState<{ certificate: { serialHex: string } }>(renewing.vol.volumeId);
          const serial = await expectCertificate(renewing.vol, renewing.want, caCert, layout.work);
          return serial === s.certificate.serialHex.replace(/^0+/, '') ? true : undefined;
        });
      });

      it('unpublish after the restart removes files, directories, state and registry; again is OK', async () => {
        await run('cleanup', [
          ...survivors().map((p, i) => unpublishStep(`cleanup:${i}`, p.vol)),
          ...survivors().map((p, i) => unpublishStep(`cleanup-again:${i}`, p.vol)),
        ]);
        for (const [i, p] of survivors().entries()) {
          for (const id of [`cleanup:${i}`, `cleanup-again:${i}`]) {
            expect(r(id).codeName, r(id).details).toBe('OK');
            expect(r(id).listing?.exists).toBe(false);
          }
          expectNothingOf(p.vol, layout.stateFile(p.vol.volumeId));
        }
        expect(readdirSync(join(layout.stateFile('x'), '..'))).toEqual([]);
        expect(layout.registryFiles()).toEqual([]);
      });
    });
  },
);

/** Removes log folders of runs older than a day. */
function pruneOldLogs(): void {
  if (!existsSync(LOG_ROOT)) return;
  for (const entry of readdirSync(LOG_ROOT)) {
    const path = join(LOG_ROOT, entry);
    if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
