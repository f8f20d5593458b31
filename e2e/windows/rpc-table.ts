/**
 * The RPC table the Windows node is driven with: the same Identity/Node expectations as the Linux
 * suite (e2e/rpc-codes.e2e.test.ts), publishes with the attributes that matter on Windows, and the
 * requests a Windows node must refuse with INVALID_ARGUMENT: bad Windows target paths and file
 * names that Linux would accept. Kept apart from the Linux tables, whose cases check mounts.
 */
import { expect } from 'vitest';
import type { KeyInfo, Sans } from '../support/openssl.js';
import type { Pod, WinVolume } from './support/layout.js';

export const DRIVER_NAME = 'csi.k8s.cert-driver';
export const NODE_ID = 'e2e-win-node-1';
export const CLUSTER_DOMAIN = 'cluster.local';
export const PREFIX = 'csi.k8s.cert-driver/';
export const a = (name: string): string => `${PREFIX}${name}`;
const HOUR = 3600;

type Json = Record<string, unknown>;

export interface IdentityCase {
  service: 'Identity' | 'Node';
  method: string;
  check: (res: Json) => void | Promise<void>;
}

/** Identity and node information: answered OK, checked by `check` (vitest expectations). */
export const IDENTITY: IdentityCase[] = [
  {
    service: 'Identity',
    method: 'GetPluginInfo',
    check: (r) => {
      expect(r.name).toBe(DRIVER_NAME);
      expect(r.vendor_version).toMatch(/^\d+\.\d+\.\d+/);
    },
  },
  {
    service: 'Identity',
    method: 'GetPluginCapabilities',
    // A node-only plugin: advertising CONTROLLER_SERVICE would make csi-sanity call the controller.
    check: (r) => expect(JSON.stringify(r.capabilities)).not.toContain('CONTROLLER_SERVICE'),
  },
  { service: 'Identity', method: 'Probe', check: (r) => expect(r.ready).toEqual({ value: true }) },
  {
    service: 'Node',
    method: 'NodeGetInfo',
    check: (r) => {
      expect(r.node_id).toBe(NODE_ID);
      expect(Number(r.max_volumes_per_node)).toBeGreaterThanOrEqual(0);
    },
  },
  {
    service: 'Node',
    method: 'NodeGetCapabilities',
    check: (r) =>
      expect((r.capabilities as { rpc?: { type?: string } }[]).map((c) => c.rpc?.type)).toEqual([
        'VOLUME_MOUNT_GROUP',
      ]),
  },
];

/** Node RPCs a node-only ephemeral driver does not implement. */
export const UNIMPLEMENTED = [
  { method: 'NodeStageVolume', req: { volume_id: 'v', staging_target_path: 'C:\\staging\\v' } },
  { method: 'NodeUnstageVolume', req: { volume_id: 'v', staging_target_path: 'C:\\staging\\v' } },
  { method: 'NodeGetVolumeStats', req: { volume_id: 'v', volume_path: 'C:\\x' } },
  { method: 'NodeExpandVolume', req: { volume_id: 'v', volume_path: 'C:\\x' } },
];

export interface FileNames {
  certificate: string;
  privateKey: string;
  ca?: string | undefined;
  pkcs12?: { name: string; password: string } | undefined;
}

export interface Want {
  cn: (pod: Pod) => string | undefined;
  sans: (pod: Pod) => Partial<Sans>;
  durationSeconds: number;
  key: KeyInfo;
  /** PEM label of the private key file. */
  keyPem: string;
  usages: string[];
  files: FileNames;
}

export interface GoodCase {
  name: string;
  drive?: 'C' | 'Z' | 'long';
  /** Name of the volume (a segment of the target path); long for the `\\?\` case. */
  volumeName?: string;
  attributes: Record<string, string>;
  want: Partial<Want>;
}

const ECDSA_USAGES = ['digital signature', 'server auth', 'client auth'];
const RSA_USAGES = ['digital signature', 'key encipherment', 'server auth', 'client auth'];

export const DEFAULT_WANT: Want = {
  cn: (p) => `${p.name}.${p.namespace}.svc.${CLUSTER_DOMAIN}`,
  sans: (p) => ({ dns: [p.name] }),
  durationSeconds: 168 * HOUR,
  key: { algorithm: 'EC', bits: 256, curve: 'P-256' },
  keyPem: 'EC PRIVATE KEY',
  usages: ECDSA_USAGES,
  files: { certificate: 'tls.crt', privateKey: 'tls.key', ca: 'ca.crt' },
};

export const GOOD: GoodCase[] = [
  { name: 'defaults on C: (ECDSA P-256 SEC1, tls.crt/tls.key/ca.crt, 168h)', attributes: {}, want: {} },
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
      cn: (p) => `${p.name}.${p.namespace}`,
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
    attributes: {
      [a('pkcs12-enable')]: 'true',
      [a('pkcs12-filename')]: 'keystore.pfx',
      [a('pkcs12-password')]: 'changeit',
    },
    want: {
      files: {
        certificate: 'tls.crt',
        privateKey: 'tls.key',
        ca: 'ca.crt',
        pkcs12: { name: 'keystore.pfx', password: 'changeit' },
      },
    },
  },
  { name: "target on Wine's Z: drive", drive: 'Z', attributes: {}, want: {} },
  {
    name: 'target longer than MAX_PATH with the \\\\?\\ prefix',
    drive: 'long',
    volumeName: `long-${'v'.repeat(220)}`,
    attributes: {},
    want: {},
  },
];

/** A request the Windows node must refuse with INVALID_ARGUMENT, naming `field`. */
export interface BadCase {
  name: string;
  /** Replaces the target path; gets the fresh volume. */
  target?: (v: WinVolume) => string;
  attributes?: Record<string, string>;
  mutate?: (req: Json) => void;
  field: string;
  reason?: RegExp;
}

const notDriveAbsolute = /not an absolute path with a drive letter/;
const reserved = /reserved Windows device name/;
const dotOrSpace = /ends with a dot or space/;
const forbids = (ch: string): RegExp => new RegExp(`contains the character '\\${ch}'`);

export const BAD: BadCase[] = [
  // Target paths Windows cannot use as they are.
  {
    name: 'relative target_path',
    target: () => 'pods\\x\\mount',
    field: 'target_path',
    reason: notDriveAbsolute,
  },
  {
    name: 'Linux absolute target_path',
    target: (v) => `/var/lib/kubelet/pods/${v.pod.uid}/volumes/kubernetes.io~csi/tls/mount`,
    field: 'target_path',
    reason: notDriveAbsolute,
  },
  { name: 'drive-relative C:mount', target: () => 'C:mount', field: 'target_path', reason: notDriveAbsolute },
  { name: 'UNC path', target: () => '\\\\fileserver\\share\\mount', field: 'target_path', reason: /UNC/ },
  { name: 'drive root C:\\', target: () => 'C:\\', field: 'target_path', reason: /drive root/ },
  {
    name: '".." traversal out of the pod directory',
    target: (v) => `${v.targetPath}\\..\\..\\..\\..\\escape\\mount`,
    field: 'target_path',
    reason: /'\.\.' segments/,
  },
  {
    name: '"." segment',
    target: (v) => `${v.targetPath}\\.\\x`,
    field: 'target_path',
    reason: /'\.' segments/,
  },
  {
    name: 'reserved name CON',
    target: (v) => `${v.targetPath}\\CON`,
    field: 'target_path',
    reason: reserved,
  },
  {
    name: 'reserved name with an extension, nul.txt',
    target: (v) => `${v.targetPath}\\nul.txt\\x`,
    field: 'target_path',
    reason: reserved,
  },
  {
    name: 'reserved name in lower case, com1',
    target: (v) => `${v.targetPath}\\com1`,
    field: 'target_path',
    reason: reserved,
  },
  {
    name: 'colon in a segment (a:b, an NTFS stream)',
    target: (v) => `${v.targetPath}\\a:b`,
    field: 'target_path',
    reason: forbids(':'),
  },
  { name: 'trailing dot', target: (v) => `${v.targetPath}.`, field: 'target_path', reason: dotOrSpace },
  { name: 'trailing space', target: (v) => `${v.targetPath} `, field: 'target_path', reason: dotOrSpace },
  {
    name: 'wildcard *',
    target: (v) => `${v.targetPath}\\mo*unt`,
    field: 'target_path',
    reason: forbids('*'),
  },
  {
    name: 'pipe character |',
    target: (v) => `${v.targetPath}\\a|b`,
    field: 'target_path',
    reason: forbids('|'),
  },
  {
    name: 'longer than MAX_PATH without \\\\?\\',
    target: (v) => `${v.targetPath}\\${'x'.repeat(250)}`,
    field: 'target_path',
    reason: /MAX_PATH/,
  },
  {
    name: "'/' inside a \\\\?\\ path",
    target: (v) => `\\\\?\\${v.targetPath.replaceAll('\\', '/')}`,
    field: 'target_path',
    reason: /not a separator/,
  },
  // File names Linux accepts and Windows does not.
  {
    name: 'certificate-file tls:crt',
    attributes: { [a('certificate-file')]: 'tls:crt' },
    field: a('certificate-file'),
    reason: forbids(':'),
  },
  {
    name: 'privatekey-file aux.pem',
    attributes: { [a('privatekey-file')]: 'aux.pem' },
    field: a('privatekey-file'),
    reason: reserved,
  },
  {
    name: 'ca-file "name."',
    attributes: { [a('ca-file')]: 'name.' },
    field: a('ca-file'),
    reason: dotOrSpace,
  },
  {
    name: 'certificate-file CON',
    attributes: { [a('certificate-file')]: 'CON' },
    field: a('certificate-file'),
    reason: reserved,
  },
  {
    name: 'privatekey-file LPT1.key',
    attributes: { [a('privatekey-file')]: 'LPT1.key' },
    field: a('privatekey-file'),
    reason: reserved,
  },
  {
    name: 'certificate-file with a trailing space',
    attributes: { [a('certificate-file')]: 'tls.crt ' },
    field: a('certificate-file'),
    reason: dotOrSpace,
  },
  {
    name: 'privatekey-file key?.pem',
    attributes: { [a('privatekey-file')]: 'key?.pem' },
    field: a('privatekey-file'),
    reason: forbids('?'),
  },
  {
    name: 'ca-file with a control character',
    attributes: { [a('ca-file')]: 'ca\u0001.crt' },
    field: a('ca-file'),
    reason: /control character/,
  },
  {
    name: "ca-file named like the adapter's manifest",
    attributes: { [a('ca-file')]: '.csi-cert-driver.json' },
    field: a('ca-file'),
    reason: /reserved for the driver's own bookkeeping/,
  },
  {
    name: 'certificate-file TLS.KEY collides with tls.key ignoring case',
    attributes: { [a('certificate-file')]: 'TLS.KEY' },
    field: a('certificate-file'),
    reason: /also used by/,
  },
  {
    name: 'pkcs12-filename with an NTFS stream suffix',
    attributes: { [a('pkcs12-enable')]: 'true', [a('pkcs12-filename')]: 'keystore.p12:secret' },
    field: a('pkcs12-filename'),
    reason: forbids(':'),
  },
  // Portable rules, as on Linux: the same core validates on both platforms.
  { name: 'volume_id with a backslash', mutate: (r) => (r.volume_id = 'csi-a\\..\\b'), field: 'volume_id' },
  { name: 'readonly=false', mutate: (r) => (r.readonly = false), field: 'readonly' },
  { name: 'bad duration', attributes: { [a('duration')]: 'forever' }, field: a('duration') },
  {
    name: 'unknown attribute (typo dns-name)',
    attributes: { [a('dns-name')]: 'x.example.com' },
    field: a('dns-name'),
  },
  { name: 'bad IP', attributes: { [a('ip-sans')]: '10.0.0.300' }, field: a('ip-sans') },
];
