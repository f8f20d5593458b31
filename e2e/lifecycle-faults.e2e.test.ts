/**
 * Faults around a running node, with the real processes, socket and tmpfs: the issuer down for a
 * while (existing volumes keep valid certificates, renewals back off and recover, publishes are
 * UNAVAILABLE until it is back), a volume whose tmpfs is full, a target path that vanished, and
 * truncated state files found at start-up. In each case the error is clear, nothing crashes, and
 * the other volumes carry on.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  existsSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  rmdirSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { beforeEach, describe, expect, it } from 'vitest';
import { codeName, harnessPerSuite, type Harness, type StateFile, type Volume } from './support/harness.js';
import { SHORT_LIVED as SHORT } from './support/publish-table.js';
import { mountsAt } from './support/host.js';
import { normaliseSerial } from './support/openssl.js';
import { expectGone, expectMountedOnce, expectValidPair } from './support/volume-checks.js';
import { sleep, waitFor } from './support/wait.js';

type State = StateFile & { failures: number; lastError?: string };

describe('lifecycle faults', () => {
  let h: Harness;
  const published: Volume[] = [];

  harnessPerSuite({ suite: 'lifecycle-faults', issuerTimeout: '2s' }, (started) => (h = started), published);

  beforeEach(async () => {
    if (h.issuer?.exitStatus !== undefined) await h.startIssuer();
    if (h.node?.exitStatus !== undefined) await h.startNode();
  });

  const state = (v: Volume): State => h.readState(v.volumeId) as State;
  const serialOnDisk = (v: Volume): string =>
    normaliseSerial(new X509Certificate(readFileSync(join(v.targetPath, 'tls.crt'))).serialNumber);
  const renewedSince = (v: Volume, t: number): boolean =>
    state(v).history.some((e) => e.kind === 'renew' && e.outcome === 'success' && Date.parse(e.at) >= t);
  /** Polls `done` every 250 ms for up to a minute (a 1m certificate renews 5–10 s after each issue). */
  const within = (what: string, done: () => boolean): Promise<true> =>
    waitFor(what, () => (done() ? true : undefined), { timeoutMs: 60_000, intervalMs: 250 });

  async function publishOk(vol: Volume, attributes: Record<string, string> = SHORT): Promise<void> {
    published.push(vol);
    const res = await h.publish(vol, attributes);
    expect(res, `publish: ${codeName(res.code)} ${res.details}`).toMatchObject({ code: status.OK });
  }

  it('issuer down: volumes keep valid certificates, renewals back off, publishes are UNAVAILABLE, all recover', async () => {
    const vols = [h.newVolume(), h.newVolume(), h.newVolume()];
    for (const v of vols) await publishOk(v);
    const crt = new Map(vols.map((v) => [v.volumeId, readFileSync(join(v.targetPath, 'tls.crt'), 'utf8')]));

    await h.stopIssuer();
    const downAt = Date.now();
    await within('every volume to fail renewal four times in a row', () =>
      vols.every((v) => state(v).failures >= 4),
    );

    for (const v of vols) {
      const s = state(v);
      expect(readFileSync(join(v.targetPath, 'tls.crt'), 'utf8'), 'files untouched').toBe(
        crt.get(v.volumeId),
      );
      expect(Date.parse(s.certificate!.notAfter)).toBeGreaterThan(Date.now());
      await expectValidPair(h, v);
      const failures = s.history.filter((e) => e.kind === 'renew' && e.outcome === 'failure');
      expect(failures.at(-1)?.error).toMatch(/unreachable|UNAVAILABLE/);
      // Backoff 1 s, 2 s, 4 s ... ±25%: the jittered ranges do not overlap, so the gaps grow.
      const gaps = failures
        .slice(-4)
        .map((e, i, all) => (i === 0 ? 0 : Date.parse(e.at) - Date.parse(all[i - 1]!.at)));
      expect(gaps[2]!, `gaps ${gaps.join(', ')} ms`).toBeGreaterThan(gaps[1]!);
      expect(gaps[3]!, `gaps ${gaps.join(', ')} ms`).toBeGreaterThan(gaps[2]!);
    }

    const late = h.newVolume();
    const refused = await h.publish(late, SHORT);
    expect(codeName(refused.code), refused.details).toBe('UNAVAILABLE');
    expect(refused.details).toMatch(/unreachable/);
    expect(existsSync(h.stateFile(late.volumeId)), 'a refused publish leaves no state').toBe(false);
    expect(mountsAt(late.targetPath), 'nor a mount').toEqual([]);
    expect(
      h.node!.logLines().filter((l) => l.msg === 'renewal failed; current certificate kept').length,
    ).toBeGreaterThanOrEqual(12);

    await h.startIssuer();
    const upAt = Date.now();
    await within('every volume to renew once the issuer is back', () =>
      vols.every((v) => renewedSince(v, upAt)),
    );
    for (const v of vols) {
      expect(state(v).failures).toBe(0);
      expect(serialOnDisk(v)).toBe(normaliseSerial(state(v).certificate!.serialHex));
      await expectValidPair(h, v);
    }
    await publishOk(late);
    expect(upAt - downAt).toBeGreaterThan(10_000);
  }, 150_000);

  it('a full tmpfs: that volume keeps its files and retries, the others renew, it recovers once space is free', async () => {
    const [full, other] = [h.newVolume(), h.newVolume()] as [Volume, Volume];
    await publishOk(full);
    await publishOk(other);
    const serial = serialOnDisk(full);

    // Fill the volume's tmpfs (root writes straight into the data dir, as a runaway process could).
    const filler = join(h.dataDir(full.volumeId), 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const filledAt = Date.now();

    await within('a failed renewal of the full volume and a successful one of the other', () => {
      const failed = state(full).history.some((e) => e.outcome === 'failure' && Date.parse(e.at) >= filledAt);
      return failed && renewedSince(other, filledAt);
    });
    expect(state(full).lastError).toMatch(/tmpfs .* is full/);
    expect(serialOnDisk(full), 'the current certificate stays').toBe(serial);
    await expectValidPair(h, full);

    rmSync(filler);
    const freedAt = Date.now();
    await within('the full volume to renew once space is free', () => renewedSince(full, freedAt));
    expect(serialOnDisk(full)).not.toBe(serial);
    await expectValidPair(h, full);
  }, 150_000);

  it('a target path that vanished: renewals go on, republish mounts it again, unpublish cleans up', async () => {
    const [gone, goneForGood] = [h.newVolume(), h.newVolume()] as [Volume, Volume];
    await publishOk(gone);
    await publishOk(goneForGood);
    for (const v of [gone, goneForGood]) {
      execFileSync('umount', ['-l', v.targetPath]);
      rmdirSync(v.targetPath);
    }
    const vanishedAt = Date.now();
    await within('a renewal after the target vanished', () => renewedSince(gone, vanishedAt));

    const again = await h.publish(gone, SHORT);
    expect(codeName(again.code), again.details).toBe('OK');
    expectMountedOnce(h, gone);
    await expectValidPair(h, gone);
    expect(
      h.node!.logLines().some((l) => l.msg === 'volume state exists but its mount is gone; publishing again'),
    ).toBe(true);

    const unpublished = await h.unpublish(goneForGood);
    expect(codeName(unpublished.code), unpublished.details).toBe('OK');
    expectGone(h, goneForGood);
    expect(h.node!.exitStatus, 'the node is still running').toBeUndefined();
  }, 120_000);

  it('truncated state files at start-up are set aside; the rest recover and renew; kubelet republishes the lost ones', async () => {
    const [half, empty, fine] = [h.newVolume(), h.newVolume(), h.newVolume()] as [Volume, Volume, Volume];
    for (const v of [half, empty, fine]) await publishOk(v);
    await h.killNode();
    const text = readFileSync(h.stateFile(half.volumeId));
    truncateSync(h.stateFile(half.volumeId), Math.floor(text.length / 2));
    truncateSync(h.stateFile(empty.volumeId), 0);
    await h.startNode();
    const restartedAt = Date.now();

    const recovered = h.node!.logLines().find((l) => l.msg === 'state recovered');
    expect(recovered?.corrupt).toBe(2);
    for (const v of [half, empty]) expect(existsSync(`${h.stateFile(v.volumeId)}.corrupt`)).toBe(true);
    await within('the intact volume to renew after the restart', () => renewedSince(fine, restartedAt));

    for (const v of [half, empty]) {
      const res = await h.publish(v, SHORT);
      expect(codeName(res.code), res.details).toBe('OK');
      expectMountedOnce(h, v);
      await expectValidPair(h, v);
    }
    await sleep(100);
    for (const v of [half, empty, fine]) {
      expect((await h.unpublish(v)).code).toBe(status.OK);
      expectGone(h, v);
    }
  }, 120_000);
});
