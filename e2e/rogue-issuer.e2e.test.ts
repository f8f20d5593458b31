/**
 * The node must not trust the wire to its issuer: with a rogue issuer between the node and the real
 * one, a publish whose answer is signed by another CA or carries another key fails with INTERNAL,
 * writes nothing and leaves no mount or state; a renewal against it keeps the old files.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, PREFIX, codeName, type Volume } from './support/harness.js';
import { RogueIssuer, type RogueMode } from './support/rogue-issuer.js';
import { expectValidPair } from './support/volume-checks.js';
import { waitFor } from './support/wait.js';

const a = (name: string): string => `${PREFIX}${name}`;

describe('a rogue issuer', () => {
  let h: Harness;
  let rogue: RogueIssuer;
  const vols: Volume[] = [];

  beforeAll(async () => {
    rogue = await RogueIssuer.start();
    const nodeSettings = { CERT_SERVICE_ADDR: rogue.address, TRUST_BUNDLE_REFRESH: '1s' };
    h = await Harness.start({ suite: 'rogue-issuer', nodeSettings });
    rogue.realCa = { cert: h.caCert, key: h.caKey };
    rogue.upstream = h.issuerAddr;
  });

  afterAll(async () => {
    if (h) {
      for (const v of vols) await h.unpublish(v).catch(() => undefined);
      await h.close();
    }
    rogue?.close();
  });

  it('relaying honestly, publishes as usual', async () => {
    rogue.mode = 'relay';
    const vol = h.newVolume();
    vols.push(vol);
    const res = await h.publish(vol);
    expect(res, `${codeName(res.code)} ${res.details}`).toMatchObject({ code: status.OK });
    await expectValidPair(h, vol);
    expect(rogue.answered.relay).toBeGreaterThan(0);
  });

  it.each<{ mode: RogueMode; mismatch: RegExp }>([
    {
      mode: 'other-ca',
      mismatch: /issuer answer rejected \(chain\).*does not chain to the node's trust bundle/,
    },
    { mode: 'other-key', mismatch: /issuer answer rejected \(public key\)/ },
  ])('$mode: the publish fails with INTERNAL and leaves nothing behind', async ({ mode, mismatch }) => {
    rogue.mode = mode;
    const vol = h.newVolume();
    const before = h.snapshot();
    const answered = rogue.answered[mode];
    const res = await h.publish(vol);
    expect(rogue.answered[mode]).toBe(answered + 1);
    expect(res.code, `${codeName(res.code)} ${res.details}`).toBe(status.INTERNAL);
    expect(res.details).toMatch(mismatch);
    expect(res.details).not.toContain('BEGIN');
    expect(h.snapshot()).toEqual(before);
    expect(h.stateFiles()).not.toContain(`${vol.volumeId}.json`);
  });

  it('other-key: a renewal fails and keeps the old files; the next honest renewal replaces them', async () => {
    rogue.mode = 'relay';
    const vol = h.newVolume();
    vols.push(vol);
    // Lifetime 1m (+60 s back-dating), renewal 50 s before the end: due 5–10 s after each issue.
    const res = await h.publish(vol, { [a('duration')]: '1m', [a('renew-before')]: '50s' });
    expect(res, `${codeName(res.code)} ${res.details}`).toMatchObject({ code: status.OK });
    const generation = readlinkSync(join(vol.targetPath, '..data'));
    const cert = readFileSync(join(vol.targetPath, 'tls.crt'), 'utf8');
    const key = readFileSync(join(vol.targetPath, 'tls.key'), 'utf8');

    rogue.mode = 'other-key';
    const failed = await waitFor(
      'a failed renewal',
      () => h.readState(vol.volumeId).history.find((e) => e.kind === 'renew' && e.outcome === 'failure'),
      { timeoutMs: 30_000 },
    );
    expect(failed.error).toMatch(/issuer answer rejected \(public key\)/);
    expect(readlinkSync(join(vol.targetPath, '..data'))).toBe(generation);
    expect(readFileSync(join(vol.targetPath, 'tls.crt'), 'utf8')).toBe(cert);
    expect(readFileSync(join(vol.targetPath, 'tls.key'), 'utf8')).toBe(key);

    rogue.mode = 'relay';
    await waitFor(
      'an honest renewal',
      () => readlinkSync(join(vol.targetPath, '..data')) !== generation || undefined,
      {
        timeoutMs: 60_000,
      },
    );
    await expectValidPair(h, vol);
  });
});
