/**
 * PKCS#10 certificate requests. The node builds one from a CertificateSpec (subject, SANs, requested
 * KeyUsage / ExtendedKeyUsage / BasicConstraints as an extensionRequest) and signs it with the
 * volume's key; the issuer parses one strictly and verifies its self-signature. Both sides use the
 * small DER codec in der.ts (see there why not @peculiar/x509).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { CertificateSpec } from '../attributes/certificate-spec.js';
import { InvalidArgumentError } from '../common/errors.js';
import * as der from './der.js';
import { basicConstraintsExtension, subjectAltNameExtension } from './extensions.js';
import { shapeOfPair, spkiDerOfPair, type KeyPair } from './keys.js';
import { decodeName, subjectNameDer, type GeneralName, type NameAttribute } from './names.js';
import { firstPemBlock, toPem } from './pem.js';
import { signatureSchemeOf, signatureSchemeOfOid, signWith, verifyWith } from './signing-keys.js';
import { DEFAULT_USAGES, KeyUsageFlags, resolveUsages, usageExtensions } from './usages.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const EMPTY_NAME = der.sequence();

/** The SANs of a spec as GeneralNames, in the order DNS, IP, URI, email. */
export function specGeneralNames(
  spec: Pick<CertificateSpec, 'dnsNames' | 'ipAddresses' | 'uris' | 'emailAddresses'>,
): GeneralName[] {
  return [
    ...spec.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...spec.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...spec.uris.map((value) => ({ type: 'uri' as const, value })),
    ...spec.emailAddresses.map((value) => ({ type: 'email' as const, value })),
  ];
}

/** PEM "CERTIFICATE REQUEST" for `spec`, signed by `keys.privateKey`. Usages default as cert-manager's. */
export async function buildCsr(spec: CertificateSpec, keys: KeyPair): Promise<string> {
  const subject = subjectNameDer(spec.subject);
  const usages = resolveUsages(spec.usages.length > 0 ? spec.usages : DEFAULT_USAGES);
  if (spec.isCA) usages.keyUsage |= KeyUsageFlags.keyCertSign;
  const san = subjectAltNameExtension(specGeneralNames(spec), subject.equals(EMPTY_NAME));
  const extensions = [
    ...(san ? [san] : []),
    ...usageExtensions(usages),
    basicConstraintsExtension(spec.isCA),
  ];
  const info = der.sequence(
    der.smallInteger(0),
    subject,
    spkiDerOfPair(keys),
    der.context(0, true, der.sequence(der.oid(EXTENSION_REQUEST), der.setOf(der.sequence(...extensions)))),
  );
  const scheme = signatureSchemeOf(shapeOfPair(keys));
  const signature = signWith(keys.privateKey, scheme, info);
  return toPem(
    der.sequence(info, scheme.algorithmIdentifier, der.bitString(signature)),
    'CERTIFICATE REQUEST',
  );
}

export interface RequestedExtension {
  oid: string;
  critical: boolean;
  /** The extnValue contents (DER of the extension's own structure). */
  value: Buffer;
}

export interface ParsedCsr {
  /** The DER Name exactly as requested; `der.sequence()` (30 00) when empty. */
  subjectDer: Buffer;
  subjectIsEmpty: boolean;
  /** The subject's attributes, decoded once (names.ts `decodeName`); empty when the subject is. */
  subject: readonly NameAttribute[];
  spkiDer: Buffer;
  publicKey: KeyObject;
  /** Extensions of the extensionRequest attribute; other attributes are ignored. */
  extensions: RequestedExtension[];
  /** Whether the self-signature verifies with the CSR's own key under an accepted scheme. */
  signatureValid: boolean;
}

function readExtensions(attributes: der.Tlv | undefined): RequestedExtension[] {
  if (attributes === undefined) return [];
  const out: RequestedExtension[] = [];
  for (const attr of der.readChildren(attributes.value)) {
    const [type, values] = der.readChildren(attr.value);
    if (type === undefined || values?.tag !== der.TAG.SET || der.decodeOid(type) !== EXTENSION_REQUEST)
      continue;
    for (const exts of der.readChildren(values.value)) {
      for (const ext of der.readChildren(exts.value)) {
        const fields = der.readChildren(ext.value);
        const critical =
          fields.length === 3 && fields[1]?.tag === der.TAG.BOOLEAN && fields[1].value[0] !== 0;
        const value = fields[fields.length - 1];
        if (fields[0] === undefined || value?.tag !== der.TAG.OCTET_STRING)
          throw new der.DerError('bad Extension');
        out.push({ oid: der.decodeOid(fields[0]), critical, value: value.value });
      }
    }
  }
  return out;
}

/**
 * The subject, SubjectPublicKeyInfo and requested extensions of a PEM CSR, without building the key
 * or checking the signature (for CSRs this process made itself). InvalidArgumentError(field) when
 * it is not one.
 */
export function csrContents(
  pem: string,
  field = 'csr_pem',
): Pick<ParsedCsr, 'subjectDer' | 'spkiDer' | 'extensions'> {
  const raw = firstPemBlock(pem, 'CERTIFICATE REQUEST', field);
  try {
    const [info] = der.readChildren(der.readOnly(raw, der.TAG.SEQUENCE).value);
    if (info?.tag !== der.TAG.SEQUENCE) throw new der.DerError('not a CertificationRequest');
    const [, subject, spki, attributes] = der.readChildren(info.value);
    if (subject?.tag !== der.TAG.SEQUENCE || spki?.tag !== der.TAG.SEQUENCE)
      throw new der.DerError('not a CertificationRequestInfo');
    return {
      subjectDer: Buffer.from(subject.bytes),
      spkiDer: Buffer.from(spki.bytes),
      extensions: readExtensions(attributes?.tag === 0xa0 ? attributes : undefined),
    };
  } catch {
    throw new InvalidArgumentError(field, 'not a valid PKCS#10 certificate request');
  }
}

/**
 * Parses a PEM CSR strictly, once per request: the issuer hands the result to the authorizer and
 * the signing policy (ADR 24). InvalidArgumentError(field) when it is not one (a malformed subject
 * Name included); a bad signature is reported, not thrown.
 */
export function parseCsr(pem: string, field = 'csr_pem'): ParsedCsr {
  const raw = firstPemBlock(pem, 'CERTIFICATE REQUEST', field);
  try {
    const [info, algorithm, signature] = der.readChildren(der.readOnly(raw, der.TAG.SEQUENCE).value);
    if (
      info?.tag !== der.TAG.SEQUENCE ||
      algorithm?.tag !== der.TAG.SEQUENCE ||
      signature?.tag !== der.TAG.BIT_STRING
    ) {
      throw new der.DerError('not a CertificationRequest');
    }
    const [version, subject, spki, attributes] = der.readChildren(info.value);
    if (
      version?.tag !== der.TAG.INTEGER ||
      subject?.tag !== der.TAG.SEQUENCE ||
      spki?.tag !== der.TAG.SEQUENCE
    ) {
      throw new der.DerError('not a CertificationRequestInfo');
    }
    if (attributes !== undefined && attributes.tag !== 0xa0) throw new der.DerError('bad attributes');
    const publicKey = createPublicKey({ key: spki.bytes, format: 'der', type: 'spki' });
    const [algOid] = der.readChildren(algorithm.value);
    const scheme = algOid === undefined ? undefined : signatureSchemeOfOid(der.decodeOid(algOid));
    const signatureValid =
      scheme !== undefined &&
      signature.value[0] === 0 &&
      verifyWith(publicKey, scheme, info.bytes, signature.value.subarray(1));
    return {
      subjectDer: Buffer.from(subject.bytes),
      subjectIsEmpty: subject.value.length === 0,
      subject: decodeName(subject.bytes),
      spkiDer: Buffer.from(spki.bytes),
      publicKey,
      extensions: readExtensions(attributes),
      signatureValid,
    };
  } catch {
    throw new InvalidArgumentError(field, 'not a valid PKCS#10 certificate request');
  }
}

/**
 * `parseCsr`, or undefined when `pem` is not a valid CSR: for a caller that parses once up front and
 * leaves the refusal (InvalidArgumentError) to the check that would have parsed it.
 */
export function parseCsrOrUndefined(pem: string, field = 'csr_pem'): ParsedCsr | undefined {
  try {
    return parseCsr(pem, field);
  } catch {
    return undefined;
  }
}
