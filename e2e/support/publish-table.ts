/**
 * The publishes a node must accept, with what OpenSSL must then find in the volume: key types and
 * encodings, SANs, subject, lifetime, usages, file names, a PKCS#12 keystore. One table, driven over
 * the Linux socket (e2e/publish.e2e.test.ts) and against the Windows node under Wine
 * (e2e/windows/); a row that only one platform can express says so in `only`.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  canonicalIp,
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
  type KeyInfo,
  type Sans,
} from './openssl.js';

export const CLUSTER_DOMAIN = 'cluster.local';
export const PREFIX = 'csi.k8s.cert-driver/';
export const CM_PREFIX = 'csi.cert-manager.io/';
/** The issuer back-dates notBefore by this much (clock skew allowance). */
export const SKEW_SECONDS = 60;
const HOUR = 3600;

export const a = (name: string): string => `${PREFIX}${name}`;
/** Lifetime 1m (+60 s back-dating), renewal 50 s before the end: due 5–10 s after each issue. */
export const SHORT_LIVED: Readonly<Record<string, string>> = {
  [a('duration')]: '1m',
  [a('renew-before')]: '50s',
};
const cm = (name: string): string => `${CM_PREFIX}${name}`;

const ECDSA_USAGES = ['digital signature', 'server auth', 'client auth'];
const RSA_USAGES = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
const P256: KeyInfo = { algorithm: 'EC', bits: 256, curve: 'P-256' };

/** The pod a volume belongs to, as kubelet names it. */
export interface Pod {
  name: string;
  namespace: string;
  uid: string;
  serviceAccount: string;
}

export interface FileNames {
  certificate: string;
  privateKey: string;
  /** Undefined when the volume has no CA file. */
  ca?: string | undefined;
  pkcs12?: { name: string; password: string } | undefined;
}

export const DEFAULT_FILES: FileNames = { certificate: 'tls.crt', privateKey: 'tls.key', ca: 'ca.crt' };

export interface Want {
  subject: (pod: Pod) => Record<string, string[]>;
  sans: (pod: Pod) => Partial<Sans>;
  durationSeconds: number;
  key: KeyInfo;
  /** PEM label of the private key file. */
  keyPem: string;
  usages: string[];
  files: FileNames;
  /** Group owning the files (Linux); undefined = root's group and a 0400 key. */
  fsGroup?: number;
  /** `openssl verify -purpose` results expected. */
  purposes?: { sslserver: boolean; sslclient: boolean };
}

export interface PublishCase {
  name: string;
  attributes: Record<string, string>;
  pod?: { name?: string; namespace?: string };
  volumeMountGroup?: string;
  /** The one platform that runs the row; both when unset. */
  only?: 'linux' | 'windows';
  /** Windows: the target path's drive (`long`: beyond MAX_PATH with `\\?\`). */
  drive?: 'C' | 'long';
  /** Name of the volume (a segment of the target path); long for the `\\?\` case. */
  volumeName?: string;
  want: Partial<Want>;
}

const defaultCn = (pod: Pod): string => `${pod.name}.${pod.namespace}.svc.${CLUSTER_DOMAIN}`;

export const DEFAULT_WANT: Want = {
  subject: (pod) => ({ CN: [defaultCn(pod)] }),
  sans: (pod) => ({ dns: [pod.name] }),
  durationSeconds: 168 * HOUR,
  key: P256,
  keyPem: 'EC PRIVATE KEY',
  usages: ECDSA_USAGES,
  files: DEFAULT_FILES,
};

export const CASES: PublishCase[] = [
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
    only: 'linux',
    attributes: { [a('fs-group')]: '2000' },
    want: { fsGroup: 2000 },
  },
  {
    name: 'CSI volume_mount_group 3000 (kubelet fsGroup) without fs-group',
    only: 'linux',
    attributes: {},
    volumeMountGroup: '3000',
    want: { fsGroup: 3000 },
  },
  {
    name: 'fs-group overrides volume_mount_group',
    only: 'linux',
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
  {
    name: 'ECDSA P-384 PKCS#8, dns-names with expansion and a wildcard, IPv4 and IPv6 ip-sans',
    attributes: {
      [a('key-algorithm')]: 'ECDSA',
      [a('key-size')]: '384',
      [a('key-encoding')]: 'PKCS8',
      [a('dns-names')]: '${POD_NAME},${POD_NAME}.${POD_NAMESPACE}.svc,*.example.com',
      [a('ip-sans')]: '10.1.2.3,2001:db8::10',
    },
    want: {
      key: { algorithm: 'EC', bits: 384, curve: 'P-384' },
      keyPem: 'PRIVATE KEY',
      sans: (p) => ({
        dns: [p.name, `${p.name}.${p.namespace}.svc`, '*.example.com'],
        ip: ['10.1.2.3', '2001:db8::10'],
      }),
    },
  },
  {
    name: 'RSA 2048 PKCS#1, SPIFFE uri-sans, duration 2h',
    attributes: {
      [a('key-algorithm')]: 'RSA',
      [a('uri-sans')]: 'spiffe://cluster.local/ns/${POD_NAMESPACE}/sa/${SERVICE_ACCOUNT_NAME}',
      [a('duration')]: '2h',
    },
    want: {
      key: { algorithm: 'RSA', bits: 2048 },
      keyPem: 'RSA PRIVATE KEY',
      usages: RSA_USAGES,
      durationSeconds: 2 * HOUR,
      sans: (p) => ({ uri: [`spiffe://cluster.local/ns/${p.namespace}/sa/${p.serviceAccount}`] }),
    },
  },
  {
    name: 'Ed25519, custom file names cert.pem/key.pem/chain.pem, common-name, email-sans',
    attributes: {
      [a('key-algorithm')]: 'Ed25519',
      [a('certificate-file')]: 'cert.pem',
      [a('privatekey-file')]: 'key.pem',
      [a('ca-file')]: 'chain.pem',
      [a('common-name')]: '${POD_NAME}.${POD_NAMESPACE}',
      [a('email-sans')]: '${POD_NAME}@example.com',
    },
    want: {
      key: { algorithm: 'ED25519', bits: 256 },
      keyPem: 'PRIVATE KEY',
      subject: (p) => ({ CN: [`${p.name}.${p.namespace}`] }),
      sans: (p) => ({ email: [`${p.name}@example.com`] }),
      files: { certificate: 'cert.pem', privateKey: 'key.pem', ca: 'chain.pem' },
    },
  },
  {
    name: 'file names legal on Windows with a space and non-ASCII letters, no CA file, duration 90m',
    attributes: {
      [a('certificate-file')]: 'server cert.pem',
      [a('privatekey-file')]: 'schlüssel.pem',
      [a('ca-file')]: '',
      [a('duration')]: '1h30m',
    },
    want: {
      durationSeconds: 90 * 60,
      files: { certificate: 'server cert.pem', privateKey: 'schlüssel.pem' },
    },
  },
  {
    name: 'PKCS#12 keystore next to the PEM files (pkcs12-enable, pkcs12-password)',
    only: 'windows',
    attributes: {
      [a('pkcs12-enable')]: 'true',
      [a('pkcs12-filename')]: 'keystore.pfx',
      [a('pkcs12-password')]: 'changeit',
    },
    want: { files: { ...DEFAULT_FILES, pkcs12: { name: 'keystore.pfx', password: 'changeit' } } },
  },
  // No case on Wine's Z: drive: targets must lie below KUBELET_ROOT_DIR, which is on C: as on a
  // Windows node (docs/security.md, "What a volume's operations touch").
  {
    name: 'target longer than MAX_PATH with the \\\\?\\ prefix',
    only: 'windows',
    drive: 'long',
    volumeName: `long-${'v'.repeat(220)}`,
    attributes: {},
    want: {},
  },
];

/** The rows `platform` runs. */
export const casesFor = (platform: 'linux' | 'windows'): PublishCase[] =>
  CASES.filter((c) => (c.only ?? platform) === platform);

const sortedSans = (s: Partial<Sans>): Sans => ({
  dns: [...(s.dns ?? [])].sort(),
  ip: (s.ip ?? []).map(canonicalIp).sort(),
  uri: [...(s.uri ?? [])].sort(),
  email: [...(s.email ?? [])].sort(),
});

/**
 * Everything OpenSSL can say about the certificate and key in `dir` against `want`: chain to `caCert`
 * and to the volume's own CA file, leaf only, subject, SANs, lifetime, usages (keyUsage critical, not
 * a CA), the purposes, key type and PEM encoding. Returns the validity.
 */
export async function expectIssued(o: {
  dir: string;
  want: Want;
  pod: Pod;
  caCert: string;
}): Promise<{ notBefore: Date; notAfter: Date }> {
  const { dir, want, pod, caCert } = o;
  const files = want.files;
  const cert = join(dir, files.certificate);
  const key = join(dir, files.privateKey);
  const verified = await verifyChain(caCert, cert);
  expect(verified.ok, `openssl verify: ${verified.output}`).toBe(true);
  expect(pemLabels(cert), 'the certificate file holds the leaf only (root CA)').toEqual(['CERTIFICATE']);
  if (files.ca) {
    expect(await fingerprintOf(join(dir, files.ca))).toBe(await fingerprintOf(caCert));
    expect((await verifyChain(join(dir, files.ca), cert)).ok, 'verifies with its own CA file').toBe(true);
  }

  expect(await subjectOf(cert)).toEqual(want.subject(pod));
  expect(await sansOf(cert)).toEqual(sortedSans(want.sans(pod)));

  const validity = await validityOf(cert);
  const lifetime = (validity.notAfter.getTime() - validity.notBefore.getTime()) / 1000;
  expect(
    Math.abs(lifetime - (want.durationSeconds + SKEW_SECONDS)),
    `lifetime ${lifetime}s`,
  ).toBeLessThanOrEqual(1);

  const usages = await usagesOf(cert);
  const wantUsages = expectedUsages(want.usages);
  expect(usages.keyUsage).toEqual(wantUsages.keyUsage);
  expect(usages.keyUsageCritical, 'keyUsage is critical').toBe(true);
  expect(usages.extKeyUsage).toEqual(wantUsages.extKeyUsage);
  expect(usages.isCA, 'basicConstraints CA:FALSE').toBe(false);
  if (want.purposes) {
    for (const purpose of ['sslserver', 'sslclient'] as const) {
      const r = await verifyChain(caCert, cert, purpose);
      expect(r.ok, `verify -purpose ${purpose}: ${r.output}`).toBe(want.purposes[purpose]);
    }
  }

  expect(await certKeyInfo(cert)).toEqual(want.key);
  expect(await privateKeyInfo(key)).toEqual(want.key);
  expect(pemLabels(key)).toEqual([want.keyPem]);
  return validity;
}
