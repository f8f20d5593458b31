/**
 * A plain, JSON-friendly description of a certificate for the REST API and logs (never key material),
 * and the check that a certificate belongs to a private key. Unparseable input is an
 * InvalidArgumentError naming `field`.
 */
import { X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../attributes/certificate-spec.js';
import { InvalidArgumentError } from '../common/errors.js';
import { keySpecOf } from './keys.js';
import { firstPemBlock } from './pem.js';
import { usageNamesOf } from './usages.js';
import { x509, type X509Certificate } from './x509.js';

export interface CertificateInfo {
  /** RFC 4514-style, in encoded order: "C=DE, O=Acme, CN=web". */
  subject: string;
  commonName?: string | undefined;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emails: string[];
  issuer: string;
  /** Lower-case hex, no separators, no leading 00 sign byte. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  keyAlgorithm: KeyAlgorithm;
  /** RSA modulus bits, ECDSA curve bits, 0 for Ed25519. */
  keySize: number;
  /** Upper-case hex pairs joined by colons, as `openssl x509 -fingerprint -sha256` prints it. */
  sha256Fingerprint: string;
  isCA: boolean;
  /** cert-manager spellings of the KeyUsage bits and EKUs. */
  usages: string[];
}

/** Parses the first certificate of a PEM text with both parsers; InvalidArgumentError(field) when it is not one. */
export function parseCertificate(
  pem: string,
  field = 'certificate',
): { cert: X509Certificate; node: NodeX509Certificate } {
  const der = firstPemBlock(pem, 'CERTIFICATE', field);
  try {
    return { cert: new x509.X509Certificate(der), node: new NodeX509Certificate(der) };
  } catch {
    throw new InvalidArgumentError(field, 'not a valid X.509 certificate');
  }
}

function sansOf(cert: X509Certificate): Record<'dns' | 'ip' | 'url' | 'email', string[]> {
  const out = { dns: [] as string[], ip: [] as string[], url: [] as string[], email: [] as string[] };
  for (const ext of cert.getExtensions(x509.SubjectAlternativeNameExtension)) {
    for (const name of ext.names.items) {
      if (name.type === 'dns' || name.type === 'ip' || name.type === 'url' || name.type === 'email') {
        out[name.type].push(name.value);
      }
    }
  }
  return out;
}

/** Describes the first certificate of `pem` (a bundle's leaf). */
export function describeCertificate(pem: string, field = 'certificate'): CertificateInfo {
  const { cert, node } = parseCertificate(pem, field);
  const key = keySpecOf(node.publicKey, field);
  const sans = sansOf(cert);
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  const ekus = (cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []).map(String);
  return {
    subject: cert.subject,
    commonName: cert.subjectName.getField('CN')[0],
    dnsNames: sans.dns,
    ipAddresses: sans.ip,
    uris: sans.url,
    emails: sans.email,
    issuer: cert.issuer,
    serialHex: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    keyAlgorithm: key.algorithm,
    keySize: key.size,
    sha256Fingerprint: node.fingerprint256,
    isCA: cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
    usages: usageNamesOf(keyUsage, ekus),
  };
}

/** True when `privateKey` is the key of the first certificate of `certPem`; false for any mismatch, including key type. */
export function certificateMatchesKey(certPem: string, privateKey: KeyObject): boolean {
  const { node } = parseCertificate(certPem);
  try {
    return node.checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}
