/**
 * DER encodings of the X.509 v3 extensions this project issues and requests: BasicConstraints,
 * KeyUsage, ExtendedKeyUsage, SubjectAltName, Subject/AuthorityKeyIdentifier. Criticality follows
 * cert-manager: BasicConstraints and KeyUsage critical, SubjectAltName critical only without a subject.
 */
import { createHash } from 'node:crypto';
import * as der from './der.js';
import { generalNamesDer, type GeneralName } from './names.js';

export const EXTENSION_OIDS = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

/** One Extension: SEQUENCE { extnID, critical (omitted when false, DER), extnValue OCTET STRING }. */
export function extension(extnId: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? der.sequence(der.oid(extnId), der.boolean(true), der.octetString(value))
    : der.sequence(der.oid(extnId), der.octetString(value));
}

const BASIC_CONSTRAINTS = {
  ca: extension(EXTENSION_OIDS.basicConstraints, true, der.sequence(der.boolean(true))),
  endEntity: extension(EXTENSION_OIDS.basicConstraints, true, der.sequence()),
};

/** BasicConstraints (critical). One shared encoding per value: the caller must not modify it. */
export function basicConstraintsExtension(isCA: boolean): Buffer {
  return isCA ? BASIC_CONSTRAINTS.ca : BASIC_CONSTRAINTS.endEntity;
}

/** KeyUsage from flag bits (bit n = 1 << n, digitalSignature = bit 0): a named-bit BIT STRING without trailing zeros. */
export function keyUsageExtension(flags: number): Buffer {
  const highest = 31 - Math.clz32(flags);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (let bit = 0; bit <= highest; bit++) {
    if (flags & (1 << bit)) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  }
  return extension(EXTENSION_OIDS.keyUsage, true, der.bitString(bytes, 7 - (highest & 7)));
}

export function extKeyUsageExtension(oids: readonly string[]): Buffer {
  return extension(EXTENSION_OIDS.extKeyUsage, false, der.sequence(...oids.map(der.oid)));
}

/** SubjectAltName, or undefined without names; critical when the subject is empty (RFC 5280 4.2.1.6). */
export function subjectAltNameExtension(
  names: readonly GeneralName[],
  subjectIsEmpty: boolean,
): Buffer | undefined {
  if (names.length === 0) return undefined;
  return extension(EXTENSION_OIDS.subjectAltName, subjectIsEmpty, generalNamesDer(names));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents of an SPKI. */
export function keyIdentifierOf(spki: Buffer): Buffer {
  const fields = der.readChildren(der.readOnly(spki, der.TAG.SEQUENCE).value);
  const bits = fields[1];
  if (bits === undefined || bits.tag !== der.TAG.BIT_STRING)
    throw new der.DerError('bad SubjectPublicKeyInfo');
  return createHash('sha1').update(bits.value.subarray(1)).digest();
}

export function subjectKeyIdentifierExtension(keyId: Uint8Array): Buffer {
  return extension(EXTENSION_OIDS.subjectKeyIdentifier, false, der.octetString(keyId));
}

const akiByKeyId = new WeakMap<Uint8Array, Buffer>();

/**
 * AuthorityKeyIdentifier with `keyId`. The encoding is kept for as long as that `keyId` object lives
 * (a CA's, for every certificate it signs): `keyId` must not be modified, nor the result.
 */
export function authorityKeyIdentifierExtension(keyId: Uint8Array): Buffer {
  let ext = akiByKeyId.get(keyId);
  if (ext === undefined) {
    ext = extension(EXTENSION_OIDS.authorityKeyIdentifier, false, der.sequence(der.context(0, false, keyId)));
    akiByKeyId.set(keyId, ext);
  }
  return ext;
}
