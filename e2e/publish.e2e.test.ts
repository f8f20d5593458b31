/**
 * Publish over the real CSI socket with many attribute combinations, then judge the result from the
 * outside: OpenSSL for the certificate and key, /proc/self/mountinfo for the mounts, stat for modes
 * and owners, the state file on disk; unpublish and check that nothing is left.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CM_PREFIX, Harness, PREFIX, codeName, type Pod, type Volume } from './support/harness.js';
import { modeOf, mountsAt, octal, ownerOf, symlinkTarget, visibleFiles, writeError } from './support/host.js';
import {
  certKeyInfo,
  expectedUsages,
  fingerprintOf,
  pemLabels,
  privateKeyInfo,
  sansOf,
  subjectOf,
  usagesOf,
  validityOf,
  verifyChain,
  canonicalIp,
  type KeyInfo,
  type Sans,
} from './support/openssl.js';
import {
  DEFAULT_FILES,
  TMPFS_SOURCE,
  expectGone,
  expectMountedOnce,
  expectValidPair,
  type FileNames,
} from './support/volume-checks.js';

const CLUSTER_DOMAIN = 'cluster.local';
/** A VOLUME_SIZE other than the default, so the test proves the setting reaches the tmpfs. */
const VOLUME_SIZE = '2Mi';
const VOLUME_SIZE_OPTION = 'size=2048k';
/** The issuer back-dates notBefore by this much (clock skew allowance). */
const SKEW_SECONDS = 60;
const HOUR = 3600;

const a = (name: string): string => `${PREFIX}${name}`;
const cm = (name: string): string => `${CM_PREFIX}${name}`;

const ECDSA_USAGES = ['digital signature', 'server auth', 'client auth'];
const RSA_USAGES = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
const P256: KeyInfo = { algorithm: 'EC', bits: 256, curve: 'P-256' };

interface Want {
  subject: (pod: Pod) => Record<string, string[]>;
  sans: (pod: Pod) => Partial<Sans>;
  durationSeconds: number;
  key: KeyInfo;
  /** PEM label of the private key file. */
  keyPem: string;
  usages: string[];
  files: FileNames;
  /** Group owning the files; undefined = root's group and a 0400 key. */
  fsGroup?: number;
  /** `openssl verify -purpose` results expected. */
  purposes?: { sslserver: boolean; sslclient: boolean };
}

interface Case {
  name: string;
  attributes: Record<string, string>;
  pod?: { name?: string; namespace?: string };
  volumeMountGroup?: string;
  want: Partial<Want>;
}

const defaultCn = (pod: Pod): string => `${pod.name}.${pod.namespace}.svc.${CLUSTER_DOMAIN}`;

const DEFAULT_WANT: Want = {
  subject: (pod) => ({ CN: [defaultCn(pod)] }),
  sans: (pod) => ({ dns: [pod.name] }),
  durationSeconds: 168 * HOUR,
  key: P256,
  keyPem: 'EC PRIVATE KEY',
  usages: ECDSA_USAGES,
  files: DEFAULT_FILES,
};

const CASES: Case[] = [
  {
    name: 'defaults: ECDSA P-256 SEC1, CN pod.ns.svc.domain, DNS SAN pod name, 168h',
    attributes: {},
    want: {},
  },
  {
    name: 'dns-names with ${POD_NAME}/${POD_NAMESPACE} expansion and a wildcard',
    attributes: { [a('dns-names')]: '${POD_NAME},${POD_NAME}.${POD_NAMESPACE}.svc,*.example.com' },
    pod: { namespace: 'payments' },
    want: { sans: (p) => ({ dns: [p.name, `${p.name}.payments.svc`, '*.example.com'] }) },
  },
  {
    name: 'ip-sans IPv4 and IPv6 (no default DNS SAN once any SAN is given)',
    attributes: { [a('ip-sans')]: '10.1.2.3,2001:db8::10' },
    want: { sans: () => ({ ip: ['10.1.2.3', '2001:db8::10'] }) },
  },
  {
    name: 'uri-sans SPIFFE ID with ${POD_NAMESPACE} and ${SERVICE_ACCOUNT_NAME}',
    attributes: { [a('uri-sans')]: 'spiffe://cluster.local/ns/${POD_NAMESPACE}/sa/${SERVICE_ACCOUNT_NAME}' },
    want: { sans: (p) => ({ uri: [`spiffe://cluster.local/ns/${p.namespace}/sa/${p.serviceAccount}`] }) },
  },
  {
    name: 'email-sans with expansion',
    attributes: { [a('email-sans')]: '${POD_NAME}@example.com,ops@example.com' },
    want: { sans: (p) => ({ email: [`${p.name}@example.com`, 'ops@example.com'] }) },
  },
  {
    name: 'every SAN kind at once, ${POD_UID} in a URI',
    attributes: {
      [a('dns-names')]: 'api.example.com',
      [a('ip-sans')]: '192.0.2.7',
      [a('uri-sans')]: 'urn:pod:${POD_UID}',
      [a('email-sans')]: 'a@example.com',
    },
    want: {
      sans: (p) => ({
        dns: ['api.example.com'],
        ip: ['192.0.2.7'],
        uri: [`urn:pod:${p.uid}`],
        email: ['a@example.com'],
      }),
    },
  },
  {
    name: 'common-name with expansion (the default DNS SAN stays)',
    attributes: { [a('common-name')]: '${POD_NAME}.${POD_NAMESPACE}' },
    want: { subject: (p) => ({ CN: [`${p.name}.${p.namespace}`] }) },
  },
  {
    name: 'a default CN longer than 64 characters is left out',
    attributes: {},
    pod: { name: 'checkout-service-7d9f8b6c5d-x2x9q-with-a-long-name', namespace: 'payments' },
    want: { subject: () => ({}) },
  },
  {
    name: 'subject fields: O, OU (expanded), C, ST, L, street, postalCode, serialNumber=${POD_UID}',
    attributes: {
      [a('organizations')]: 'Acme Inc,Example Org',
      [a('organizational-units')]: 'payments,${POD_NAMESPACE}',
      [a('countries')]: 'DE,US',
      [a('provinces')]: 'Bavaria',
      [a('localities')]: 'Munich',
      [a('street-addresses')]: '1 Main Street',
      [a('postal-codes')]: '80331',
      [a('serial-number')]: '${POD_UID}',
    },
    want: {
      subject: (p) => ({
        CN: [defaultCn(p)],
        O: ['Acme Inc', 'Example Org'],
        OU: ['default', 'payments'],
        C: ['DE', 'US'],
        ST: ['Bavaria'],
        L: ['Munich'],
        street: ['1 Main Street'],
        postalCode: ['80331'],
        serialNumber: [p.uid],
      }),
    },
  },
  {
    name: 'RSA 2048, default encoding PKCS#1',
    attributes: { [a('key-algorithm')]: 'RSA' },
    want: { key: { algorithm: 'RSA', bits: 2048 }, keyPem: 'RSA PRIVATE KEY', usages: RSA_USAGES },
  },
  {
    name: 'RSA 3072 PKCS#8',
    attributes: { [a('key-algorithm')]: 'RSA', [a('key-size')]: '3072', [a('key-encoding')]: 'PKCS8' },
    want: { key: { algorithm: 'RSA', bits: 3072 }, keyPem: 'PRIVATE KEY', usages: RSA_USAGES },
  },
  {
    name: 'RSA 4096 PKCS#1',
    attributes: { [a('key-algorithm')]: 'RSA', [a('key-size')]: '4096', [a('key-encoding')]: 'PKCS1' },
    want: { key: { algorithm: 'RSA', bits: 4096 }, keyPem: 'RSA PRIVATE KEY', usages: RSA_USAGES },
  },
  {
    name: 'ECDSA P-384 PKCS#8',
    attributes: { [a('key-algorithm')]: 'ECDSA', [a('key-size')]: '384', [a('key-encoding')]: 'PKCS8' },
    want: { key: { algorithm: 'EC', bits: 384, curve: 'P-384' }, keyPem: 'PRIVATE KEY' },
  },
  {
    name: 'ECDSA P-521 SEC1',
    attributes: { [a('key-algorithm')]: 'ECDSA', [a('key-size')]: '521' },
    want: { key: { algorithm: 'EC', bits: 521, curve: 'P-521' }, keyPem: 'EC PRIVATE KEY' },
  },
  {
    name: 'ECDSA P-256 PKCS#8, names in lower case',
    attributes: { [a('key-algorithm')]: 'ecdsa', [a('key-size')]: '256', [a('key-encoding')]: 'pkcs8' },
    want: { keyPem: 'PRIVATE KEY' },
  },
  {
    name: 'Ed25519 (PKCS#8)',
    attributes: { [a('key-algorithm')]: 'Ed25519' },
    want: { key: { algorithm: 'ED25519', bits: 256 }, keyPem: 'PRIVATE KEY' },
  },
  {
    name: 'key-usages server auth only: OpenSSL accepts it for sslserver, refuses it for sslclient',
    attributes: { [a('key-usages')]: 'digital signature,server auth' },
    want: { usages: ['digital signature', 'server auth'], purposes: { sslserver: true, sslclient: false } },
  },
  {
    name: 'key-usages client auth only (mTLS client): sslclient yes, sslserver no',
    attributes: { [a('key-usages')]: 'digital signature,key agreement,client auth' },
    want: {
      usages: ['digital signature', 'key agreement', 'client auth'],
      purposes: { sslserver: false, sslclient: true },
    },
  },
  {
    name: 'key-usages in mixed case: content commitment, code signing, email protection',
    attributes: { [a('key-usages')]: 'Digital Signature,Content Commitment,Code Signing,Email Protection' },
    want: { usages: ['digital signature', 'content commitment', 'code signing', 'email protection'] },
  },
  {
    name: 'default usages with both purposes',
    attributes: {},
    want: { purposes: { sslserver: true, sslclient: true } },
  },
  { name: 'duration 1h30m', attributes: { [a('duration')]: '1h30m' }, want: { durationSeconds: 90 * 60 } },
  {
    name: 'duration 24h with renew-before 8h',
    attributes: { [a('duration')]: '24h', [a('renew-before')]: '8h' },
    want: { durationSeconds: 24 * HOUR },
  },
  {
    name: 'duration above the issuer MAX_DURATION (720h) is clamped to it',
    attributes: { [a('duration')]: '8760h' },
    want: { durationSeconds: 720 * HOUR },
  },
  {
    name: 'custom file names',
    attributes: {
      [a('certificate-file')]: 'cert.pem',
      [a('privatekey-file')]: 'key.pem',
      [a('ca-file')]: 'ca.pem',
    },
    want: { files: { certificate: 'cert.pem', privateKey: 'key.pem', ca: 'ca.pem' } },
  },
  {
    name: 'ca-file "" disables the CA file',
    attributes: { [a('ca-file')]: '' },
    want: { files: { certificate: 'tls.crt', privateKey: 'tls.key', ca: undefined } },
  },
  {
    name: 'fs-group 2000: files group 2000, key 0440',
    attributes: { [a('fs-group')]: '2000' },
    want: { fsGroup: 2000 },
  },
  {
    name: 'CSI volume_mount_group 3000 (kubelet fsGroup) without fs-group',
    attributes: {},
    volumeMountGroup: '3000',
    want: { fsGroup: 3000 },
  },
  {
    name: 'fs-group overrides volume_mount_group',
    attributes: { [a('fs-group')]: '2000' },
    volumeMountGroup: '3000',
    want: { fsGroup: 2000 },
  },
  {
    name: 'the csi.cert-manager.io spelling',
    attributes: {
      [cm('dns-names')]: '${POD_NAME}.${POD_NAMESPACE}.svc.cluster.local',
      [cm('common-name')]: 'cm-${POD_NAME}',
      [cm('duration')]: '2h',
      [cm('key-algorithm')]: 'RSA',
      [cm('key-encoding')]: 'PKCS8',
      [cm('certificate-file')]: 'tls.pem',
      [cm('organizations')]: 'cert-manager users',
    },
    want: {
      subject: (p) => ({ CN: [`cm-${p.name}`], O: ['cert-manager users'] }),
      sans: (p) => ({ dns: [`${p.name}.${p.namespace}.svc.cluster.local`] }),
      durationSeconds: 2 * HOUR,
      key: { algorithm: 'RSA', bits: 2048 },
      keyPem: 'PRIVATE KEY',
      usages: RSA_USAGES,
      files: { certificate: 'tls.pem', privateKey: 'tls.key', ca: 'ca.crt' },
    },
  },
  {
    name: 'both prefixes in one volume (different attributes)',
    attributes: { [cm('duration')]: '3h', [a('ip-sans')]: '198.51.100.1' },
    want: { durationSeconds: 3 * HOUR, sans: () => ({ ip: ['198.51.100.1'] }) },
  },
];

const sortedSans = (s: Partial<Sans>): Sans => ({
  dns: [...(s.dns ?? [])].sort(),
  ip: (s.ip ?? []).map(canonicalIp).sort(),
  uri: [...(s.uri ?? [])].sort(),
  email: [...(s.email ?? [])].sort(),
});

/** Base64 lines of a PEM body, to look for key material where it must not be. */
const pemBodyLines = (pem: string): string[] =>
  pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));

describe('NodePublishVolume over the CSI socket, verified with OpenSSL', () => {
  let h: Harness;
  const published: Volume[] = [];

  beforeAll(async () => {
    h = await Harness.start({ suite: 'publish', volumeSize: VOLUME_SIZE, clusterDomain: CLUSTER_DOMAIN });
  });

  afterAll(async () => {
    if (!h) return;
    // Best effort for volumes a failed test left published; close() unmounts the rest regardless.
    for (const vol of published) await h.unpublish(vol).catch(() => undefined);
    await h.close();
  });

  it.each(CASES)('$name', async (c) => {
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

    // Chain: against the harness CA, and against the volume's own CA file (what the pod would use).
    const verified = await verifyChain(h.caCert, cert);
    expect(verified.ok, verified.output).toBe(true);
    expect(pemLabels(cert), 'the certificate file holds the leaf only (root CA)').toEqual(['CERTIFICATE']);
    if (files.ca) {
      expect(await fingerprintOf(join(target, files.ca))).toBe(await fingerprintOf(h.caCert));
      expect((await verifyChain(join(target, files.ca), cert)).ok).toBe(true);
    }

    expect(await subjectOf(cert)).toEqual(want.subject(pod));
    expect(await sansOf(cert)).toEqual(sortedSans(want.sans(pod)));

    const { notBefore, notAfter } = await validityOf(cert);
    const lifetime = (notAfter.getTime() - notBefore.getTime()) / 1000;
    expect(
      Math.abs(lifetime - (want.durationSeconds + SKEW_SECONDS)),
      `lifetime ${lifetime}s`,
    ).toBeLessThanOrEqual(1);
    expect(notBefore.getTime()).toBeGreaterThanOrEqual(before - (SKEW_SECONDS + 2) * 1000);
    expect(notBefore.getTime()).toBeLessThanOrEqual(after - (SKEW_SECONDS - 1) * 1000);

    const usages = await usagesOf(cert);
    const wantUsages = expectedUsages(want.usages);
    expect(usages.keyUsage).toEqual(wantUsages.keyUsage);
    expect(usages.keyUsageCritical, 'keyUsage is critical').toBe(true);
    expect(usages.extKeyUsage).toEqual(wantUsages.extKeyUsage);
    expect(usages.isCA, 'basicConstraints CA:FALSE').toBe(false);
    if (want.purposes) {
      for (const purpose of ['sslserver', 'sslclient'] as const) {
        const r = await verifyChain(h.caCert, cert, purpose);
        expect(r.ok, `verify -purpose ${purpose}: ${r.output}`).toBe(want.purposes[purpose]);
      }
    }

    expect(await certKeyInfo(cert)).toEqual(want.key);
    expect(await privateKeyInfo(key)).toEqual(want.key);
    expect(pemLabels(key)).toEqual([want.keyPem]);
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
