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
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialOf } from '../support/openssl.js';
import { waitFor } from '../support/wait.js';
import { BAD, IDENTITY, UNIMPLEMENTED } from './rpc-table.js';
import { GOOD, firstPlan, publishStep, unpublishStep, type FirstPlan, type Published } from './plan.js';
import {
  MANIFEST,
  expectCertificate,
  expectNothingOf,
  expectPlainFiles,
  fileList,
  hashes,
  pemBodyLines,
} from './support/checks.js';
import type { WinLayout } from './support/layout.js';
import type { RunnerResult } from './wine/runner-protocol.js';
import { WineSession } from './support/session.js';
import { WINE_SKIP_REASON, linuxPathOf, wineReady } from './support/wine.js';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A message that starts by naming `field` (the driver's "field: reason" form). */
const names = (field: string): RegExp => new RegExp(`^${escape(field)}: `);
const serialHex = (hex: string): string => hex.replace(/^0+/, '');

interface State {
  phase: string;
  targetPath: string;
  certificate: { serialHex: string };
  history: { kind: string; outcome: string }[];
}

describe.skipIf(!wineReady)(
  `the node role under Wine with the Windows node.exe${wineReady ? '' : ` (skipped: ${WINE_SKIP_REASON})`}`,
  () => {
    let w: WineSession;
    let layout: WinLayout;
    let plan: FirstPlan;
    let first: RunnerResult;
    const r = (id: string) => w.result(id);

    beforeAll(async () => {
      w = await WineSession.start();
      layout = w.layout;
      plan = firstPlan(layout);
      first = await w.run('first', plan.steps);
    }, 600_000);

    afterAll(async () => {
      await w?.close();
    });

    describe('first start', () => {
      it('runs dist/main.mjs with the Windows node.exe 22 on a named pipe, the issuer on Linux loopback', () => {
        expect(first).toMatchObject({ platform: 'win32', node: expect.stringMatching(/^v22\./) });
        const serving = w.node!.logLines().find((l) => l.msg === 'node driver serving CSI')!;
        // The `unix:\\.\pipe\` bind address comes from WindowsPlatform.prepareEndpoint.
        expect(serving.endpoint).toBe(w.endpoint);
        expect(serving.issuer).toBe(w.issuerAddr);
      });

      it.each(IDENTITY.map((c) => ({ ...c, rpc: `${c.service}.${c.method}` })))(
        '$rpc answers OK',
        async ({ method, check }) => {
          const res = r(`identity:${method}`);
          expect(res.codeName, res.details).toBe('OK');
          await check(res.response as Record<string, unknown>);
        },
      );

      it.each(UNIMPLEMENTED)('Node.$method answers UNIMPLEMENTED', ({ method }) => {
        expect(r(`unimpl:${method}`).codeName).toBe('UNIMPLEMENTED');
      });

      it.each(GOOD.map((c, i) => ({ ...c, i })))('publishes: $name', async ({ i }) => {
        const { vol, want } = plan.good[i]!;
        const res = r(`good:${i}`);
        expect(res.codeName, res.details).toBe('OK');
        expect(res.listing?.files, 'files as Windows lists them').toEqual(
          [MANIFEST, ...fileList(want.files)].sort(),
        );
        expectPlainFiles(vol, want.files);
        const serial = await expectCertificate(vol, want, w.caCert, layout.work);
        const state = layout.readState<State>(vol.volumeId);
        expect(state).toMatchObject({ phase: 'published', targetPath: vol.targetPath });
        expect(serialHex(state.certificate.serialHex)).toBe(serial);
        expect(
          state.history.map((e) => e.kind),
          'issued once (republish kept it)',
        ).toEqual(['issue']);
        const stateText = readFileSync(layout.stateFile(vol.volumeId), 'utf8');
        for (const line of pemBodyLines(join(vol.linuxTarget, want.files.privateKey))) {
          expect(stateText.includes(line), 'key material in the state file').toBe(false);
          expect(w.node!.logText().includes(line), 'key material in the node log').toBe(false);
        }
      });

      it.each(BAD.map((c, i) => ({ ...c, i })))(
        'refuses with INVALID_ARGUMENT: $name',
        ({ i, field, reason }) => {
          const res = r(`bad:${i}`);
          expect(res.codeName, res.details).toBe('INVALID_ARGUMENT');
          expect(res.details).toMatch(names(field));
          if (reason) expect(res.details).toMatch(reason);
          expectNothingOf(plan.bad[i]!, layout.stateFile(plan.bad[i]!.volumeId));
        },
      );

      it('left nothing of a refused publish anywhere: no escape directory, nothing in the working directory', () => {
        expect(readdirSync(w.cwd), "the node's working directory").toEqual([]);
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
        expect(existsSync(plan.elsewhere.linuxTarget)).toBe(false);
      });

      it('unpublish removes every file and the directory; a second unpublish is OK', () => {
        expect(r('cycle:publish').codeName).toBe('OK');
        expect(r('cycle:publish').listing?.files).toEqual([MANIFEST, 'ca.crt', 'tls.crt', 'tls.key']);
        for (const id of ['cycle:unpublish', 'cycle:unpublish-again']) {
          expect(r(id).codeName, r(id).details).toBe('OK');
          expect(r(id).listing?.exists).toBe(false);
        }
        expectNothingOf(plan.cycle, layout.stateFile(plan.cycle.volumeId));
        expect(r('unpub:never-seen').codeName).toBe('OK');
      });

      it('a bad unpublish is INVALID_ARGUMENT', () => {
        expect(r('unpub:no-target').codeName).toBe('INVALID_ARGUMENT');
        expect(r('unpub:no-target').details).toMatch(names('target_path'));
        expect(r('unpub:reserved').codeName, r('unpub:reserved').details).toBe('INVALID_ARGUMENT');
        expect(r('unpub:reserved').details).toMatch(/reserved Windows device name/);
        expect(r('unpub:reserved').details).toMatch(names('target_path'));
      });

      it('renews a certificate on the Windows path: files replaced in place, chain still valid', async () => {
        expect(r('renew:publish').codeName, r('renew:publish').details).toBe('OK');
        const { vol, want } = plan.renewing;
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
          const before = serialHex(layout.readState<State>(vol.volumeId).certificate.serialHex);
          const serial = await expectCertificate(vol, want, w.caCert, layout.work);
          return serial === before ? true : undefined;
        });
        expectPlainFiles(vol, want.files);
      });

      it('logs once that ACLs are not enforced (Wine gap: icacls is a no-op)', () => {
        const warnings = w.node!.logLines().filter((l) => l.platform === 'windows' && /ACLs/.test(l.msg));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.msg).toMatch(/icacls is a no-op/);
      });

      // Gaps this run cannot close, each watched by a test above that fails when it changes: ACLs
      // (icacls is a no-op under Wine: the warning test above stops finding its line once ACLs
      // work), and the symlink swap (the adapter uses per-file renames; expectPlainFiles fails on a
      // link). A pod's read-only view is kubelet's and the runtime's, not the driver's.
    });

    describe('after SIGKILL of node.exe and a restart on the same CERT_BASE_PATH', () => {
      const survivors = (): Published[] => [...plan.good, plan.renewing];
      let before: Record<string, Record<string, string>>;

      beforeAll(async () => {
        before = Object.fromEntries(plan.good.map((p) => [p.vol.volumeId, hashes(p.vol)]));
        const exit = await w.node!.kill();
        expect(exit.signal).toBe('SIGKILL');
        // Another spelling of the same pipe this time (as Windows CSI deployments write it).
        await w.startNode(`npipe://./pipe/${w.pipe}`);
        await w.run(
          'recover',
          survivors().map((p, i) => publishStep(`recover:${i}`, p.vol, p.attributes)),
        );
      }, 600_000);

      it('recovers every published volume from its state, serving on the same pipe', () => {
        const serving = w.node!.logLines().find((l) => l.msg === 'node driver serving CSI')!;
        expect(serving.endpoint).toBe(w.endpoint);
        const line = w.node!.logLines().find((l) => l.msg === 'state recovered')!;
        // The renewing volume may have been killed mid-renewal; then it is rolled back and republished.
        expect(Number(line.recovered)).toBeGreaterThanOrEqual(plan.good.length);
        expect(Number(line.recovered) + Number(line.rolledBack)).toBe(plan.good.length + 1);
        expect(line.corrupt).toBe(0);
      });

      it.each(GOOD.map((c, i) => ({ ...c, i })))('republish is OK, files intact: $name', async ({ i }) => {
        const { vol, want } = plan.good[i]!;
        const res = r(`recover:${i}`);
        expect(res.codeName, res.details).toBe('OK');
        expect(hashes(vol), 'every file byte for byte as before the kill').toEqual(before[vol.volumeId]);
        expect(layout.readState<State>(vol.volumeId).history).toHaveLength(1);
        expect(await serialOf(join(vol.linuxTarget, want.files.certificate))).toMatch(/^[0-9a-f]+$/);
      });

      it('the renewing volume is published again with a valid certificate', async () => {
        expect(r(`recover:${plan.good.length}`).codeName).toBe('OK');
        await waitFor('state and certificate to agree', async () => {
          const s = layout.readState<State>(plan.renewing.vol.volumeId);
          const serial = await expectCertificate(
            plan.renewing.vol,
            plan.renewing.want,
            w.caCert,
            layout.work,
          );
          return serial === serialHex(s.certificate.serialHex) ? true : undefined;
        });
      });

      it('unpublish after the restart removes files, directories, state and registry; again is OK', async () => {
        await w.run('cleanup', [
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
