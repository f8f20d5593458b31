/**
 * The extensions of a DER certificate read with the project's own DER reader (no ASN.1 schema
 * library on the publish path): subjectAltName names, KeyUsage bits, EKU OIDs and the CA flag.
 * Malformed DER throws DerError.
 */
import * as der from './der.js';
import { EXTENSION_OIDS } from './extensions.js';
import { decodeGeneralNames, type GeneralName } from './names.js';

export interface CertificateExtensions {
  /** Every subjectAltName of every SAN extension, in order. */
  sans: GeneralName[];
  /** KeyUsage bits (bit n = 1 << n, as KeyUsageFlags); 0 without the extension. */
  keyUsage: number;
  /** EKU OIDs; empty without the extension. */
  extendedKeyUsages: string[];
  /** basicConstraints cA; false without the extension. */
  isCA: boolean;
}

/** The extensions' [oid, extnValue contents] of a DER certificate's TBSCertificate. */
export function rawExtensions(certDer: Buffer): { oid: string; value: Buffer }[] {
  const [tbs] = der.readChildren(der.readOnly(certDer, der.TAG.SEQUENCE).value);
  if (tbs?.tag !== der.TAG.SEQUENCE) throw new der.DerError('not a Certificate');
  const exts = der.readChildren(tbs.value).find((f) => f.tag === 0xa3);
  if (exts === undefined) return [];
  return der.readChildren(der.readOnly(exts.value, der.TAG.SEQUENCE).value).map((ext) => {
    const fields = der.readChildren(ext.value);
    const value = fields[fields.length - 1];
    if (fields[0] === undefined || value?.tag !== der.TAG.OCTET_STRING)
      throw new der.DerError('bad Extension');
    return { oid: der.decodeOid(fields[0]), value: value.value };
  });
}

/** KeyUsage bits (as KeyUsageFlags) of a KeyUsage extnValue. */
export function keyUsageBits(value: Buffer): number {
  const bits = der.readOnly(value, der.TAG.BIT_STRING).value.subarray(1);
  let flags = 0;
  for (let bit = 0; bit < Math.min(bits.length * 8, 16); bit++)
    if (((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0) flags |= 1 << bit;
  return flags;
}

export function certificateExtensions(certDer: Buffer): CertificateExtensions {
  const out: CertificateExtensions = { sans: [], keyUsage: 0, extendedKeyUsages: [], isCA: false };
  for (const { oid, value } of rawExtensions(certDer)) {
    if (oid === EXTENSION_OIDS.subjectAltName) out.sans.push(...decodeGeneralNames(value));
    else if (oid === EXTENSION_OIDS.keyUsage) out.keyUsage = keyUsageBits(value);
    else if (oid === EXTENSION_OIDS.extKeyUsage)
      out.extendedKeyUsages = der
        .readChildren(der.readOnly(value, der.TAG.SEQUENCE).value)
        .map(der.decodeOid);
    else if (oid === EXTENSION_OIDS.basicConstraints) {
      const [first] = der.readChildren(der.readOnly(value, der.TAG.SEQUENCE).value);
      out.isCA = first?.tag === der.TAG.BOOLEAN && first.value[0] !== 0;
    }
  }
  return out;
}
