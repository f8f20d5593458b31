/**
 * Publishes the Windows node must accept, with what OpenSSL must then find in the volume: key
 * types and encodings, SANs, subject, lifetime, custom and non-ASCII file names, a PKCS#12
 * keystore, and target paths on C:, on Wine's Z: drive and beyond MAX_PATH with `\\?\`.
 */
import type { KeyInfo, Sans } from '../support/openssl.js';
import { CLUSTER_DOMAIN, a } from './rpc-table.js';
import type { Pod } from './support/layout.js';

const HOUR = 3600;

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
  // No case on Wine's Z: drive: targets must lie below KUBELET_ROOT_DIR, which is on C: as on a
  // Windows node (docs/security.md, "What a volume's operations touch").
  {
    name: 'target longer than MAX_PATH with the \\\\?\\ prefix',
    drive: 'long',
    volumeName: `long-${'v'.repeat(220)}`,
    attributes: {},
    want: {},
  },
];
