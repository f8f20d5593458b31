/**
 * The RPC table the Windows node is driven with: the Identity/Node expectations shared with the
 * Linux suite (e2e/support/rpc-table.ts), and the requests a Windows node must refuse with
 * INVALID_ARGUMENT: bad Windows target paths, file names that Linux would accept, and a few of the
 * portable rules. Kept apart from the Linux tables, whose cases also check mounts; the publishes
 * are in e2e/support/publish-table.ts, shared with the Linux suite.
 */
import { a } from '../support/publish-table.js';
import { identityCases, unimplementedCases } from '../support/rpc-table.js';
import type { WinVolume } from './support/layout.js';

export { DRIVER_NAME } from '../support/rpc-table.js';
export { CLUSTER_DOMAIN, PREFIX, a } from '../support/publish-table.js';
export const NODE_ID = 'e2e-win-node-1';

type Json = Record<string, unknown>;

/** Identity and node information: answered OK, checked by `check` (vitest expectations). */
export const IDENTITY = identityCases(NODE_ID);

/** Node RPCs a node-only ephemeral driver does not implement. */
export const UNIMPLEMENTED = unimplementedCases('C:\\staging\\v', 'C:\\x');

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
