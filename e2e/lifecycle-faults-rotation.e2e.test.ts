/**
 * CA rotation end to end: the issuer's CA files are replaced (as kubelet replaces a mounted Secret);
 * the issuer adds the new CA to its trust bundle before signing with it, and the node rewrites every
 * volume's ca.crt within seconds without touching keys or certificates. After the rotation delay new
 * certificates chain to the new CA, and every certificate, old or new, verifies against ca.crt.
 * Then the issuer is SIGKILLed and restarted mid-rotation: from its CA_STATE_DIR record it still
 * publishes the retiring CA, so ca.crt keeps it and the old certificates still verify.
 */
import { copyFileSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, PREFIX, codeName, type Volume } from './support/harness.js';
import { makeCa, verifyChain } from './support/openssl.js';
import { waitFor } from './support/wait.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- test helper reading keystores with OpenSSL
import { opensslPkcs12Info } from '../server/src/pki/pkcs12.test-support.js';

const a = (name: string): string => `${PREFIX}${name}`;
const LONG = { [a('duration')]: '10m' };
const SHORT = { [a('duration')]: '1m', [a('renew-before')]: '50s' };
const P12 = { [a('pkcs12-enable')]: 'true', [a('pkcs12-password')]: 'changeit' };
const ROTATION_DELAY_S = 6;
const REFRESH_S = 1;

const read = (vol: Volume, name: string): string => readFileSync(join(vol.targetPath, name), 'utf8');

describe('CA rotation', () => {
  let h: Harness;
  const long: Volume[] = [];
  const short: Volume[] = [];
  const p12: Volume[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'ccd-e2e-ca-state-'));
  let oldCa = '';
  let newCa = '';

  beforeAll(async () => {
    h = await Harness.start({
      suite: 'lifecycle-faults-rotation',
      issuerSettings: {
        CA_RELOAD_INTERVAL: '1s',
        CA_ROTATION_DELAY: `${ROTATION_DELAY_S}s`,
        MAX_DURATION: '10m',
        CA_STATE_DIR: stateDir,
      },
      nodeSettings: { TRUST_BUNDLE_REFRESH: `${REFRESH_S}s` },
    });
  });

  afterAll(async () => {
    rmSync(stateDir, { recursive: true, force: true });
    if (!h) return;
    for (const v of [...long, ...short, ...p12]) await h.unpublish(v).catch(() => undefined);
    await h.close();
  });

  async function publishOk(vol: Volume, attributes: Record<string, string>): Promise<void> {
    const res = await h.publish(vol, attributes);
    expect(res, `publish: ${codeName(res.code)} ${res.details}`).toMatchObject({ code: status.OK });
  }

  it('puts the new CA into every ca.crt within seconds, then signs with it; old and new certificates verify', async () => {
    for (let i = 0; i < 12; i++) long.push(h.newVolume(h.newPod(`long-${i}`)));
    for (let i = 0; i < 4; i++) short.push(h.newVolume(h.newPod(`short-${i}`)));
    for (let i = 0; i < 2; i++) p12.push(h.newVolume(h.newPod(`p12-${i}`)));
    for (const v of long) await publishOk(v, LONG);
    for (const v of short) await publishOk(v, SHORT);
    for (const v of p12) await publishOk(v, { ...LONG, ...P12 });
    oldCa = readFileSync(h.caCert, 'utf8').trim();
    const before = new Map(
      [...long, ...p12].map((v) => [v.volumeId, { key: read(v, 'tls.key'), crt: read(v, 'tls.crt') }]),
    );
    for (const v of [...long, ...short, ...p12]) expect(read(v, 'ca.crt').trim()).toBe(oldCa);

    // Rotate the way a Secret update lands: both files replaced by rename.
    const next = { cert: join(h.root, 'next-ca.crt'), key: join(h.root, 'next-ca.key') };
    await makeCa(next.cert, next.key, 'csi-cert-driver e2e CA 2');
    newCa = readFileSync(next.cert, 'utf8').trim();
    copyFileSync(next.key, `${h.caKey}.new`);
    copyFileSync(next.cert, `${h.caCert}.new`);
    const rotatedAt = Date.now();
    renameSync(`${h.caKey}.new`, h.caKey);
    renameSync(`${h.caCert}.new`, h.caCert);

    const all = [...long, ...short, ...p12];
    await waitFor(
      'every volume to trust both CAs',
      () =>
        all.every((v) => read(v, 'ca.crt').includes(newCa) && read(v, 'ca.crt').includes(oldCa))
          ? true
          : undefined,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const propagationMs = Date.now() - rotatedAt;
    expect(propagationMs, 'all ca.crt rewritten before the new CA signs').toBeLessThan(
      ROTATION_DELAY_S * 1000,
    );

    for (const v of [...long, ...p12]) {
      const b = before.get(v.volumeId)!;
      expect(read(v, 'tls.key'), 'the key is untouched').toBe(b.key);
      expect(read(v, 'tls.crt'), 'the certificate is untouched').toBe(b.crt);
      const verified = await verifyChain(join(v.targetPath, 'ca.crt'), join(v.targetPath, 'tls.crt'));
      expect(verified.ok, `old certificate against the new bundle: ${verified.output}`).toBe(true);
    }
    for (const v of p12) {
      const dir = join(v.targetPath, readlinkSync(join(v.targetPath, '..data')));
      const info = await opensslPkcs12Info(join(dir, 'keystore.p12'), 'changeit');
      expect(info.code, info.out).toBe(0);
      expect(info.out, 'the keystore carries the new CA').toContain(newCa);
    }

    // After the delay the issuer signs with the new CA: the next renewals and publishes chain to it.
    const renewedByNew = await waitFor(
      'a short-lived volume renewed by the new CA',
      async () => {
        for (const v of short) {
          if ((await verifyChain(next.cert, join(v.targetPath, 'tls.crt'))).ok) return v;
        }
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const verified = await verifyChain(
      join(renewedByNew.targetPath, 'ca.crt'),
      join(renewedByNew.targetPath, 'tls.crt'),
    );
    expect(verified.ok, verified.output).toBe(true);
    const fresh = h.newVolume(h.newPod('after-rotation'));
    long.push(fresh);
    await publishOk(fresh, LONG);
    expect((await verifyChain(next.cert, join(fresh.targetPath, 'tls.crt'))).ok).toBe(true);
    expect(read(fresh, 'ca.crt')).toContain(oldCa);

    const issuerLog = h.issuer!.logLines().map((l) => l.msg);
    expect(issuerLog).toContain('new CA added to the trust bundle; it signs after the rotation delay');
    expect(issuerLog.some((m) => m.startsWith('CA rotated'))).toBe(true);
    const nodeLog = h.node!.logLines();
    expect(nodeLog.some((l) => l.msg === 'trust bundle changed')).toBe(true);
    expect(nodeLog.some((l) => l.msg === 'trust bundle distributed to volumes')).toBe(true);
  }, 120_000);

  it('an issuer SIGKILLed and restarted mid-rotation still publishes the retiring CA; old certificates keep verifying', async () => {
    expect(oldCa, 'runs after the rotation above').not.toBe('');
    const oldLeaves = [...long.filter((v) => v.pod.name !== 'after-rotation'), ...p12];
    for (const v of oldLeaves) {
      expect((await verifyChain(h.caCert, join(v.targetPath, 'tls.crt'))).ok, 'signed by the old CA').toBe(
        false,
      );
    }
    await h.stopIssuer('SIGKILL');
    await h.startIssuer();
    // The node polls every REFRESH_S: a bundle without the old CA would be in every ca.crt by now.
    await sleep(4 * REFRESH_S * 1000);
    const all = [...long, ...short, ...p12];
    for (const v of all) {
      const ca = read(v, 'ca.crt');
      expect(ca, `${v.pod.name}: ca.crt keeps the retiring CA`).toContain(oldCa);
      expect(ca, `${v.pod.name}: ca.crt has the new CA`).toContain(newCa);
    }
    for (const v of oldLeaves) {
      const verified = await verifyChain(join(v.targetPath, 'ca.crt'), join(v.targetPath, 'tls.crt'));
      expect(verified.ok, `${v.pod.name}: old certificate after the restart: ${verified.output}`).toBe(true);
    }
    const fresh = h.newVolume(h.newPod('after-restart'));
    long.push(fresh);
    await publishOk(fresh, LONG);
    expect((await verifyChain(h.caCert, join(fresh.targetPath, 'tls.crt'))).ok, 'signed by the new CA').toBe(
      true,
    );
    expect(read(fresh, 'ca.crt')).toContain(oldCa);
    expect(h.node!.logLines().some((l) => l.msg === 'trust bundle changed' && l.previous === 2)).toBe(false);
    expect(h.issuer!.logLines().map((l) => l.msg)).toContain('CA rotation state restored');
  }, 90_000);
});
