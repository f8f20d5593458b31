/**
 * What happens over time and across crashes: renewal of short-lived certificates (fresh key, reused
 * key, renewal disabled), `kill -9` of the node with volumes published and with a burst of publishes
 * in flight, restart on the same CERT_BASE_PATH, and a corrupt state file.
 */
import { existsSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { beforeEach, describe, expect, it } from 'vitest';
import { codeName, harnessPerSuite, type Harness, type Outcome, type Volume } from './support/harness.js';
import { SHORT_LIVED as SHORT, a } from './support/publish-table.js';
import type { LogLine } from './support/driver-process.js';
import { mountsAt, mountsUnder } from './support/host.js';
import { normaliseSerial } from './support/openssl.js';
import { expectGone, expectMountedOnce, expectValidPair, sampleGeneration } from './support/volume-checks.js';
import { sleep, waitFor } from './support/wait.js';

describe('renewal, crash recovery and restart', () => {
  let h: Harness;
  const published: Volume[] = [];
  harnessPerSuite({ suite: 'lifecycle' }, (started) => (h = started), published);

  // A test that failed between kill and restart must not take the next one down with it.
  beforeEach(async () => {
    if (h.node?.exitStatus !== undefined) await h.startNode();
  });

  const serialInState = (vol: Volume): string | undefined => {
    const serial = h.readState(vol.volumeId).certificate?.serialHex;
    return serial === undefined ? undefined : normaliseSerial(serial);
  };

  const recoveredLine = (): LogLine | undefined =>
    h.node!.logLines().find((l) => l.msg === 'state recovered');

  async function publishOk(vol: Volume, attributes: Record<string, string> = {}): Promise<void> {
    published.push(vol);
    const res = await h.publish(vol, attributes);
    expect(res, `publish: ${codeName(res.code)} ${res.details}`).toMatchObject({ code: status.OK });
  }

  it('renews short-lived certificates: a fresh key, a reused key with reuse-private-key, none with disable-auto-renew', async () => {
    const fresh = h.newVolume();
    const reuse = h.newVolume();
    const fixed = h.newVolume();
    const publishedAt = Date.now();
    await publishOk(fresh, SHORT);
    await publishOk(reuse, { ...SHORT, [a('reuse-private-key')]: 'true' });
    await publishOk(fixed, { ...SHORT, [a('disable-auto-renew')]: 'true' });
    const initial = new Map<Volume, { serial: string; publicKey: string }>();
    for (const vol of [fresh, reuse, fixed]) initial.set(vol, await expectValidPair(h, vol));
    const initialGeneration = readlinkSync(join(fresh.targetPath, '..data'));

    expect(h.readState(fixed.volumeId).nextRenewalAt, 'disable-auto-renew schedules nothing').toBeUndefined();
    const due = new Date(h.readState(fresh.volumeId).nextRenewalAt ?? 0).getTime();
    expect(due - publishedAt, 'renewal due 5–10 s after issue').toBeGreaterThan(3_000);
    expect(due - publishedAt).toBeLessThan(12_000);

    // Sample the pair continuously while waiting: every generation a reader can see is a matching pair.
    const generations = new Set<string>();
    let samples = 0;
    await waitFor(
      'both renewable volumes to get a new serial',
      () => {
        for (const vol of [fresh, reuse]) {
          const s = sampleGeneration(vol);
          if (s === undefined) continue;
          samples++;
          expect(s.matches, `key matches certificate in ${vol.targetPath}/${s.generation}`).toBe(true);
          if (vol === fresh) generations.add(s.generation);
        }
        const renewed = [fresh, reuse].every((v) => serialInState(v) !== initial.get(v)!.serial);
        return renewed ? true : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 50 },
    );
    expect(samples).toBeGreaterThan(0);

    for (const vol of [fresh, reuse]) {
      const now = await expectValidPair(h, vol);
      expect(now.serial, 'OpenSSL sees the new serial').toBe(serialInState(vol));
      expect(now.serial).not.toBe(initial.get(vol)!.serial);
      const last = h.readState(vol.volumeId).history.at(-1);
      expect(last).toMatchObject({ kind: 'renew', outcome: 'success' });
      expect(normaliseSerial(last?.serialHex ?? '')).toBe(now.serial);
      if (vol === fresh)
        expect(now.publicKey, 'a fresh key on renewal').not.toBe(initial.get(vol)!.publicKey);
      else expect(now.publicKey, 'reuse-private-key keeps the key').toBe(initial.get(vol)!.publicKey);
      expectMountedOnce(h, vol);
    }
    expect(readlinkSync(join(fresh.targetPath, '..data')), '..data points at a new generation').not.toBe(
      initialGeneration,
    );

    // The volume with renewal disabled was due as early as the others; give it the same window and more.
    await sleep(Math.max(0, publishedAt + 15_000 - Date.now()));
    expect((await expectValidPair(h, fixed)).serial).toBe(initial.get(fixed)!.serial);
    expect(h.readState(fixed.volumeId).history.map((e) => e.kind)).toEqual(['issue']);

    for (const vol of [fresh, reuse, fixed]) {
      expect((await h.unpublish(vol)).code).toBe(status.OK);
      expectGone(h, vol);
    }
  });

  it('kill -9 with volumes published: restart recovers them once, republish is idempotent, renewals resume', async () => {
    const vols = [h.newVolume(), h.newVolume(), h.newVolume(), h.newVolume()];
    const [plain, rsa, grouped, short] = vols as [Volume, Volume, Volume, Volume];
    await publishOk(plain);
    await publishOk(rsa, { [a('key-algorithm')]: 'RSA' });
    await publishOk(grouped, { [a('fs-group')]: '2000' });
    await publishOk(short, SHORT);
    const before = new Map(vols.map((v) => [v, serialInState(v)]));

    await h.killNode();
    const restartedAt = Date.now();
    // The kernel keeps the mounts of a dead driver.
    for (const vol of vols) expectMountedOnce(h, vol);

    await h.startNode();
    expect(recoveredLine()).toMatchObject({ recovered: 4, rolledBack: 0, corrupt: 0 });
    for (const vol of vols) expectMountedOnce(h, vol);

    for (const [i, vol] of vols.entries()) {
      const attributes = [{}, { [a('key-algorithm')]: 'RSA' }, { [a('fs-group')]: '2000' }, SHORT][i]!;
      const serial = serialInState(vol);
      const res = await h.publish(vol, attributes);
      expect(codeName(res.code), res.details).toBe('OK');
      expectMountedOnce(h, vol);
      expect(serialInState(vol), 'republish after restart issues nothing').toBe(serial);
    }
    for (const vol of [plain, rsa, grouped]) expect(serialInState(vol)).toBe(before.get(vol));

    // The short-lived volume renews in the new process.
    await waitFor(
      'the short-lived volume to renew after the restart',
      () => {
        const renewals = h.readState(short.volumeId).history.filter((e) => e.kind === 'renew');
        return renewals.some((e) => e.outcome === 'success' && Date.parse(e.at) >= restartedAt)
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(serialInState(short)).not.toBe(before.get(short));
    expect(
      h.node!.logLines().some((l) => l.msg === 'certificate renewed' && l.volumeId === short.volumeId),
    ).toBe(true);

    for (const vol of vols) await expectValidPair(h, vol);
    for (const vol of vols) {
      expect((await h.unpublish(vol)).code).toBe(status.OK);
      expectGone(h, vol);
    }
  });

  it('kill -9 while a burst of publishes is in flight: every volume is whole or gone, retries succeed', async () => {
    // 13 fast (ECDSA) sent first, then 3 slow (RSA-4096 key generation): when the first fast one is
    // answered, the slow ones are still between their 'publishing' state and their mounts. Only 3, so
    // they leave a libuv thread free for the others' file system calls.
    const vols = Array.from({ length: 16 }, () => h.newVolume());
    const rsa = { [a('key-algorithm')]: 'RSA', [a('key-size')]: '4096' };
    const attrs = new Map(vols.map((v, i) => [v, i < 13 ? {} : rsa]));
    published.push(...vols);
    const settled = new Map<Volume, Outcome>();
    let killed: Promise<unknown> | undefined;
    let answeredBeforeKill = 0;
    // SIGKILL the node the moment the first publish of the burst is acknowledged.
    const inflight = vols.map((v) =>
      h.publish(v, attrs.get(v)).then((r) => {
        settled.set(v, r);
        if (r.code === status.OK && killed === undefined) {
          answeredBeforeKill = settled.size;
          killed = h.killNode();
        }
      }),
    );
    await Promise.all(inflight);
    await killed;
    expect(killed, 'some publish of the burst succeeded').toBeDefined();
    expect(vols.length - answeredBeforeKill, 'publishes in flight when the node was killed').toBeGreaterThan(
      0,
    );
    // Every acknowledged publish must survive the crash, including answers that raced the signal.
    const okBeforeKill = vols.filter((v) => settled.get(v)?.code === status.OK);
    const failed = vols.filter((v) => settled.get(v)?.code !== status.OK);
    expect(failed.length, 'publishes cut off by the kill').toBeGreaterThan(0);
    for (const v of failed)
      expect(['UNAVAILABLE', 'CANCELLED', 'INTERNAL']).toContain(codeName(settled.get(v)!.code));

    for (const vol of vols) {
      expect(mountsAt(vol.targetPath).length, 'no stacked target mount').toBeLessThanOrEqual(1);
      expect(mountsAt(h.dataDir(vol.volumeId)).length, 'no stacked tmpfs').toBeLessThanOrEqual(1);
    }

    await h.startNode();
    const recovery = recoveredLine();
    expect(recovery?.corrupt).toBe(0);
    let whole = 0;
    for (const vol of vols) {
      if (existsSync(h.stateFile(vol.volumeId))) {
        expect(h.readState(vol.volumeId).phase).toBe('published');
        expectMountedOnce(h, vol);
        whole++;
      } else {
        expectGone(h, vol);
      }
    }
    expect(recovery?.recovered).toBe(whole);
    expect(recovery?.rolledBack, 'half-published volumes were rolled back').toBe(vols.length - whole);
    expect(recovery?.rolledBack, 'the kill caught some volumes mid-publish').toBeGreaterThan(0);
    for (const vol of okBeforeKill)
      expect(existsSync(h.stateFile(vol.volumeId)), 'an acknowledged publish survives').toBe(true);

    const serials = new Map(okBeforeKill.map((v) => [v, serialInState(v)]));
    const retried = await Promise.all(vols.map((v) => h.publish(v, attrs.get(v))));
    expect(retried.map((r) => codeName(r.code))).toEqual(vols.map(() => 'OK'));
    for (const vol of vols) {
      expectMountedOnce(h, vol);
      await expectValidPair(h, vol);
    }
    for (const vol of okBeforeKill)
      expect(serialInState(vol), 'recovered volume kept its certificate').toBe(serials.get(vol));

    const unpublished = await Promise.all(vols.map((v) => h.unpublish(v)));
    expect(unpublished.map((r) => codeName(r.code))).toEqual(vols.map(() => 'OK'));
    for (const vol of vols) expectGone(h, vol);
    expect(mountsUnder(join(h.basePath, 'mounts'))).toEqual([]);
  });

  it('a corrupt state file does not stop the node; the other volumes are fine and the broken one can be republished', async () => {
    const [good1, good2, victim] = [h.newVolume(), h.newVolume(), h.newVolume()] as [Volume, Volume, Volume];
    for (const vol of [good1, good2, victim]) await publishOk(vol);
    const serials = new Map([good1, good2].map((v) => [v, serialInState(v)]));

    await h.killNode();
    writeFileSync(h.stateFile(victim.volumeId), '{"version":1,"volumeId":garbage\u0000');
    await h.startNode();

    expect(recoveredLine()).toMatchObject({ recovered: 2, corrupt: 1 });
    const setAside = h.node!.logLines().find((l) => l.msg === 'unreadable volume state set aside');
    expect(String(setAside?.file)).toBe(h.stateFile(victim.volumeId));
    expect(
      existsSync(`${h.stateFile(victim.volumeId)}.corrupt`),
      'the corrupt file is kept for inspection',
    ).toBe(true);

    for (const vol of [good1, good2]) {
      expectMountedOnce(h, vol);
      expect(codeName((await h.publish(vol)).code)).toBe('OK');
      expect(serialInState(vol)).toBe(serials.get(vol));
      await expectValidPair(h, vol);
    }

    // Kubelet republishes the volume whose state was lost: it must work without stacking a mount.
    const res = await h.publish(victim);
    expect(codeName(res.code), res.details).toBe('OK');
    expectMountedOnce(h, victim);
    await expectValidPair(h, victim);
    expect(h.readState(victim.volumeId).phase).toBe('published');

    for (const vol of [good1, good2, victim]) {
      expect((await h.unpublish(vol)).code).toBe(status.OK);
      expectGone(h, vol);
    }
  });
});
