/**
 * Assembles and signs X.509 v3 certificates from DER parts (the issuer's leaf certificates and the
 * dev CA), and reads back the raw subject, issuer and key of a certificate, so that an issuer name is
 * copied byte for byte into the certificates it signs.
 */
import type { KeyObject } from 'node:crypto';
import * as der from './der.js';
import { signWith, type SignatureScheme } from './signing-keys.js';

export interface CertificateTemplate {
  /** Big-endian unsigned serial; see `randomSerial`. */
  serial: Uint8Array;
  issuerDer: Buffer;
  subjectDer: Buffer;
  spkiDer: Buffer;
  /** Truncated to whole seconds in the certificate. */
  notBefore: Date;
  notAfter: Date;
  /** DER Extension elements, in order. */
  extensions: readonly Buffer[];
  /** The issuer's private key and the scheme it signs with. */
  signingKey: KeyObject;
  scheme: SignatureScheme;
}

/** DER of the signed certificate. */
export function buildCertificate(t: CertificateTemplate): Buffer {
  const tbs = der.sequence(
    der.context(0, true, der.smallInteger(2)),
    der.unsignedInteger(t.serial),
    t.scheme.algorithmIdentifier,
    t.issuerDer,
    der.sequence(der.time(t.notBefore), der.time(t.notAfter)),
    t.subjectDer,
    t.spkiDer,
    ...(t.extensions.length > 0 ? [der.context(3, true, der.sequence(...t.extensions))] : []),
  );
  const signature = signWith(t.signingKey, t.scheme, tbs);
  return der.sequence(tbs, t.scheme.algorithmIdentifier, der.bitString(signature));
}

/** Whole seconds, as a certificate stores them. */
export function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export interface CertificateParts {
  issuerDer: Buffer;
  subjectDer: Buffer;
  spkiDer: Buffer;
}

/** The raw issuer, subject and SubjectPublicKeyInfo of a DER certificate. Throws DerError when malformed. */
export function certificateParts(certDer: Buffer): CertificateParts {
  const [tbs] = der.readChildren(der.readOnly(certDer, der.TAG.SEQUENCE).value);
  if (tbs?.tag !== der.TAG.SEQUENCE) throw new der.DerError('not a Certificate');
  const fields = der.readChildren(tbs.value);
  const rest = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  const [, , issuer, , subject, spki] = rest;
  if (issuer === undefined || subject === undefined || spki === undefined)
    throw new der.DerError('not a TBSCertificate');
  return {
    issuerDer: Buffer.from(issuer.bytes),
    subjectDer: Buffer.from(subject.bytes),
    spkiDer: Buffer.from(spki.bytes),
  };
}
