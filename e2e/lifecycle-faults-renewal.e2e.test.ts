/**
 * Renewal at scale over the real socket and real tmpfs: many short-lived volumes renewing while a
 * reader keeps reading them the way a pod does. Every renewal must bring a new serial, swap the whole
 * file set atomically (the key read always belongs to the certificate read), land in the history,
 * and keep the PKCS#12 keystore in step with the PEM files.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { codeName, harnessPerSuite, type Harness, type Volume } from './support/harness.js';
import { SHORT_LIVED as SHORT, a } from './support/publish-table.js';
import { sampleGeneration } from './support/volume-checks.js';
import { normaliseSerial, verifyChain } from './support/openssl.js';
import { waitFor } from './support/wait.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test helpers reading keystores with OpenSSL and Java
import { haveJava, keytoolList, opensslPkcs12Info } from '../server/src/pki/pkcs12.test-support.js';

const P12 = { [a('pkcs12-enable')]: 'true', [a('pkcs12-password')]: 'changeit' };
const VOLUMES = 30;

describe('renewal of many short-lived volumes', () => {
  let h: Harness;
  const vols: Volume[] = [];
  harnessPerSuite({ suite: 'lifecycle-faults-renewal' }, (started) => (h = started), vols);

  it('renews every volume repeatedly with new serials, atomic swaps and a recorded history', async () => {
    for (let i = 0; i < VOLUMES; i++) {
      const vol = h.newVolume(h.newPod(`renew-${i}`));
      vols.push(vol);
      const res = await h.publish(vol, i % 10 === 0 ? { ...SHORT, ...P12 } : SHORT);
      expect(res, `publish ${i}: ${codeName(res.code)} ${res.details}`).toMatchObject({ code: status.OK });
    }
    const firstGeneration = new Map(
      vols.map((v) => [v.volumeId, readlinkSync(join(v.targetPath, '..data'))]),
    );

    // A pod-like reader runs all along: every read must see a key that belongs to its certificate.
    let reads = 0;
    let mismatches = 0;
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const s = sampleGeneration(vols[reads % vols.length]!);
        if (s) {
          reads++;
          if (!s.matches) mismatches++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();

    const renewals = (v: Volume) =>
      h.readState(v.volumeId).history.filter((e) => e.kind === 'renew' && e.outcome === 'success');
    await waitFor(
      `every one of ${VOLUMES} volumes to renew twice`,
      () => (vols.every((v) => renewals(v).length >= 2) ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    reading = false;
    await reader;
    expect(mismatches, `torn reads out of ${reads}`).toBe(0);
    expect(reads).toBeGreaterThan(100);

    for (const v of vols) {
      const state = h.readState(v.volumeId);
      const events = state.history.filter((e) => e.outcome === 'success');
      expect(events[0]?.kind).toBe('issue');
      const serials = events.map((e) => e.serialHex);
      expect(new Set(serials).size, `distinct serials of ${v.volumeId}`).toBe(serials.length);
      expect(state.history.filter((e) => e.outcome === 'failure')).toEqual([]);
      expect(readlinkSync(join(v.targetPath, '..data'))).not.toBe(firstGeneration.get(v.volumeId));
      const cert = new X509Certificate(readFileSync(join(v.targetPath, 'tls.crt')));
      expect(normaliseSerial(cert.serialNumber)).toBe(normaliseSerial(state.certificate!.serialHex));
      expect(Date.parse(state.nextRenewalAt!)).toBeGreaterThan(Date.parse(state.certificate!.issuedAt));
    }
    for (const v of vols.slice(0, 3)) {
      const verified = await verifyChain(join(v.targetPath, 'ca.crt'), join(v.targetPath, 'tls.crt'));
      expect(verified.ok, verified.output).toBe(true);
    }
  }, 150_000);

  /**
   * Copies the keystore, key and certificate of one generation into a scratch directory. The volumes
   * keep renewing (every 5–10 s), so a generation can be swapped away between resolving `..data` and
   * reading it; then the copy starts again from the new generation.
   */
  async function snapshot(vol: Volume): Promise<string> {
    return waitFor(
      `one whole generation of ${vol.volumeId}`,
      () => {
        const gen = readlinkSync(join(vol.targetPath, '..data'));
        const out = mkdtempSync(join(tmpdir(), 'ccd-p12-'));
        try {
          for (const f of ['keystore.p12', 'tls.key', 'tls.crt']) {
            writeFileSync(join(out, f), readFileSync(join(vol.targetPath, gen, f)));
          }
        } catch (err) {
          rmSync(out, { recursive: true, force: true });
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw err;
        }
        return out;
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
  }

  it('keeps the PKCS#12 keystore in step with the renewed key and certificate', async () => {
    const withP12 = vols.filter((_, i) => i % 10 === 0);
    for (const v of withP12) {
      const dir = await snapshot(v);
      const info = await opensslPkcs12Info(join(dir, 'keystore.p12'), 'changeit');
      expect(info.code, info.out).toBe(0);
      const keyPem = createPrivateKey(readFileSync(join(dir, 'tls.key')))
        .export({ type: 'pkcs8', format: 'pem' })
        .toString()
        .trim();
      expect(info.out, 'the keystore holds the renewed key').toContain(keyPem);
      expect(info.out, 'and the renewed certificate').toContain(
        readFileSync(join(dir, 'tls.crt'), 'utf8').trim(),
      );
      rmSync(dir, { recursive: true, force: true });
    }
    if (haveJava) {
      const list = await keytoolList(join(withP12[0]!.targetPath, 'keystore.p12'), 'changeit');
      expect(list.code, list.out).toBe(0);
      expect(list.out).toContain('Entry type: PrivateKeyEntry');
    }
  }, 60_000);
});
