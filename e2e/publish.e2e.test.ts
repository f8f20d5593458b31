/**
 * Publish over the real CSI socket with many attribute combinations, then judge the result from the
 * outside: OpenSSL for the certificate and key, /proc/self/mountinfo for the mounts, stat for modes
 * and owners, the state file on disk; unpublish and check that nothing is left.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeName, harnessPerSuite, type Harness, type Volume } from './support/harness.js';
import { modeOf, mountsAt, octal, ownerOf, symlinkTarget, visibleFiles, writeError } from './support/host.js';
import {
  CLUSTER_DOMAIN,
  DEFAULT_WANT,
  SKEW_SECONDS,
  a,
  casesFor,
  expectIssued,
  type Want,
} from './support/publish-table.js';
import { TMPFS_SOURCE, expectGone, expectMountedOnce, expectValidPair } from './support/volume-checks.js';

/** A VOLUME_SIZE other than the default, so the test proves the setting reaches the tmpfs. */
const VOLUME_SIZE = '2Mi';
const VOLUME_SIZE_OPTION = 'size=2048k';

/** Base64 lines of a PEM body, to look for key material where it must not be. */
const pemBodyLines = (pem: string): string[] =>
  pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));

describe('NodePublishVolume over the CSI socket, verified with OpenSSL', () => {
  let h: Harness;
  const published: Volume[] = [];

  harnessPerSuite(
    { suite: 'publish', volumeSize: VOLUME_SIZE, clusterDomain: CLUSTER_DOMAIN },
    (started) => (h = started),
    published,
  );

  it.each(casesFor('linux'))('$name', async (c) => {
    const want: Want = { ...DEFAULT_WANT, ...c.want };
    const pod = h.newPod(c.pod?.name, c.pod?.namespace);
    const vol = h.newVolume(pod);
    published.push(vol);

    const before = Date.now();
    const res = await h.publish(vol, c.attributes, { volumeMountGroup: c.volumeMountGroup });
    const after = Date.now();
    expect(res, `publish answered ${codeName(res.code)}: ${res.details}`).toMatchObject({ code: 0 });

    const target = vol.targetPath;
    const files = want.files;
    const cert = join(target, files.certificate);
    const key = join(target, files.privateKey);
    const names = [files.certificate, files.privateKey, ...(files.ca ? [files.ca] : [])];

    // Exactly the expected files, each a symlink into ..data (kubelet's atomic-writer layout).
    expect(visibleFiles(target)).toEqual([...names].sort());
    for (const name of names) expect(symlinkTarget(join(target, name)), name).toBe(`..data/${name}`);

    // Chain (against the harness CA and the volume's own CA file), names, lifetime, usages, key.
    const { notBefore, notAfter } = await expectIssued({ dir: target, want, pod: vol.pod, caCert: h.caCert });
    expect(notBefore.getTime()).toBeGreaterThanOrEqual(before - (SKEW_SECONDS + 2) * 1000);
    expect(notBefore.getTime()).toBeLessThanOrEqual(after - (SKEW_SECONDS - 1) * 1000);
    const pair = await expectValidPair(h, vol, files);

    // Modes and owners: certificates 0444, key 0400 (0440 with a group), root of the volume 0755.
    const gid = want.fsGroup ?? 0;
    for (const name of names) {
      const wantMode = name === files.privateKey ? (want.fsGroup === undefined ? 0o400 : 0o440) : 0o444;
      expect(octal(modeOf(join(target, name))), `mode of ${name}`).toBe(octal(wantMode));
      expect(ownerOf(join(target, name)), `owner of ${name}`).toEqual({ uid: 0, gid });
    }
    expect(octal(modeOf(target)), 'mode of the volume root').toBe(octal(0o755));
    expect(ownerOf(target), 'owner of the volume root').toEqual({ uid: 0, gid });

    // Mounts: one size-limited tmpfs at the data dir, one read-only bind of it at the target.
    expectMountedOnce(h, vol);
    const [tmpfs] = mountsAt(h.dataDir(vol.volumeId));
    expect(tmpfs?.source).toBe(TMPFS_SOURCE);
    expect(tmpfs?.superOptions).toContain(VOLUME_SIZE_OPTION);
    for (const m of [tmpfs, ...mountsAt(target)]) {
      expect(m?.mountOptions).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
    }
    expect(writeError(join(target, 'intruder')), 'writing a new file into the target').toBe('EROFS');
    expect(writeError(cert), 'overwriting the certificate through the target').toBe('EROFS');

    // State: published, matching what OpenSSL read, and no key material in it or in the node log.
    const state = h.readState(vol.volumeId);
    expect(state).toMatchObject({
      version: 1,
      volumeId: vol.volumeId,
      targetPath: target,
      phase: 'published',
    });
    expect(state.certificate?.serialHex.replace(/^0+/, '')).toBe(pair.serial);
    expect(new Date(state.certificate?.notAfter ?? 0).getTime()).toBe(notAfter.getTime());
    const keyLines = pemBodyLines(readFileSync(key, 'utf8'));
    const stateText = readFileSync(h.stateFile(vol.volumeId), 'utf8');
    const nodeLog = h.node!.logText();
    for (const line of keyLines) {
      expect(stateText.includes(line), 'key material in the state file').toBe(false);
      expect(nodeLog.includes(line), 'key material in the node log').toBe(false);
    }

    const unpublished = await h.unpublish(vol);
    expect(unpublished, unpublished.details).toMatchObject({ code: 0 });
    expectGone(h, vol);
  });

  it('uses a target directory that kubelet created beforehand, and removes it on unpublish', async () => {
    const vol = h.newVolume();
    published.push(vol);
    mkdirSync(vol.targetPath, { mode: 0o750 });
    expect(statSync(vol.targetPath).isDirectory()).toBe(true);

    const res = await h.publish(vol);
    expect(res, res.details).toMatchObject({ code: 0 });
    expectMountedOnce(h, vol);
    await expectValidPair(h, vol);

    expect(await h.unpublish(vol)).toMatchObject({ code: 0 });
    expectGone(h, vol);
  });

  it('publishes many volumes at once, each with its own key and mount', async () => {
    const vols = Array.from({ length: 12 }, () => h.newVolume());
    published.push(...vols);
    const results = await Promise.all(vols.map((v) => h.publish(v, { [a('key-algorithm')]: 'ECDSA' })));
    expect(results.map((r) => codeName(r.code))).toEqual(vols.map(() => 'OK'));

    const keys = new Set<string>();
    const serials = new Set<string>();
    for (const vol of vols) {
      expectMountedOnce(h, vol);
      const { serial, publicKey } = await expectValidPair(h, vol);
      keys.add(publicKey);
      serials.add(serial);
    }
    expect(keys.size, 'distinct keys').toBe(vols.length);
    expect(serials.size, 'distinct serials').toBe(vols.length);

    const unpublished = await Promise.all(vols.map((v) => h.unpublish(v)));
    expect(unpublished.map((r) => codeName(r.code))).toEqual(vols.map(() => 'OK'));
    for (const vol of vols) expectGone(h, vol);
    expect(existsSync(h.dataDir(vols[0]!.volumeId))).toBe(false);
  });
});
