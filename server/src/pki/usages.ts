/**
 * cert-manager's key usage spellings ("digital signature", "server auth", ...) mapped to X.509
 * KeyUsage bits and ExtendedKeyUsage OIDs, as cert-manager's `pki.KeyUsageFromStrings` /
 * `ExtKeyUsageFromStrings` do. Unknown spellings are an InvalidArgumentError naming the field.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import { extKeyUsageExtension, keyUsageExtension } from './extensions.js';

/** KeyUsage bits (bit n of RFC 5280's named BIT STRING = 1 << n); same values as @peculiar/x509's KeyUsageFlags. */
export const KeyUsageFlags = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const;
const F = KeyUsageFlags;

/** KeyUsage bits by cert-manager spelling ("signing" is cert-manager's alias of digital signature). */
export const KEY_USAGE_FLAGS: Readonly<Record<string, number>> = {
  signing: F.digitalSignature,
  'digital signature': F.digitalSignature,
  'content commitment': F.nonRepudiation,
  'key encipherment': F.keyEncipherment,
  'key agreement': F.keyAgreement,
  'data encipherment': F.dataEncipherment,
  'cert sign': F.keyCertSign,
  'crl sign': F.cRLSign,
  'encipher only': F.encipherOnly,
  'decipher only': F.decipherOnly,
};

/** ExtendedKeyUsage OIDs by cert-manager spelling ("s/mime" is an alias of email protection). */
export const EXTENDED_KEY_USAGE_OIDS: Readonly<Record<string, string>> = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

/** Every usage spelling this module understands, in cert-manager's order. */
export const KNOWN_USAGES: readonly string[] = [
  ...Object.keys(KEY_USAGE_FLAGS),
  ...Object.keys(EXTENDED_KEY_USAGE_OIDS),
];

/** cert-manager's default when a Certificate lists no usages. */
export const DEFAULT_USAGES: readonly string[] = ['digital signature', 'key encipherment'];

export interface ResolvedUsages {
  /** Sum of `KeyUsageFlags`; 0 means no KeyUsage extension. */
  keyUsage: number;
  /** Distinct EKU OIDs in request order; empty means no ExtendedKeyUsage extension. */
  extendedKeyUsages: string[];
}

/** Maps usage spellings (case-insensitive, trimmed) to bits and OIDs. */
export function resolveUsages(usages: readonly string[], field = 'usages'): ResolvedUsages {
  let keyUsage = 0;
  const ekus = new Set<string>();
  for (const raw of usages) {
    const usage = raw.trim().toLowerCase();
    const flag = KEY_USAGE_FLAGS[usage];
    const oid = EXTENDED_KEY_USAGE_OIDS[usage];
    if (flag !== undefined) keyUsage |= flag;
    else if (oid !== undefined) ekus.add(oid);
    else
      throw new InvalidArgumentError(
        field,
        `unknown usage ${quoteValue(raw)}; known: ${KNOWN_USAGES.join(', ')}`,
      );
  }
  return { keyUsage, extendedKeyUsages: [...ekus] };
}

/** Encodings of the last usage sets asked for (a request's usages are bounded; most ask the default). */
const usageExtensionsCache = new Map<string, readonly Buffer[]>();
const USAGE_EXTENSIONS_CACHE_SIZE = 64;

/**
 * DER KeyUsage and ExtendedKeyUsage extensions for resolved usages (KeyUsage critical, as
 * cert-manager). Encodings are shared between calls: the caller must not modify them.
 */
export function usageExtensions(resolved: ResolvedUsages): readonly Buffer[] {
  const key = `${resolved.keyUsage}/${resolved.extendedKeyUsages.join(',')}`;
  const cached = usageExtensionsCache.get(key);
  if (cached !== undefined) return cached;
  const extensions: Buffer[] = [];
  if (resolved.keyUsage !== 0) extensions.push(keyUsageExtension(resolved.keyUsage));
  if (resolved.extendedKeyUsages.length > 0)
    extensions.push(extKeyUsageExtension(resolved.extendedKeyUsages));
  if (usageExtensionsCache.size >= USAGE_EXTENSIONS_CACHE_SIZE) usageExtensionsCache.clear();
  usageExtensionsCache.set(key, extensions);
  return extensions;
}

/** Canonical spellings of KeyUsage bits and EKU OIDs read from a certificate (aliases omitted). */
export function usageNamesOf(keyUsage: number, extendedKeyUsages: readonly string[]): string[] {
  const names: string[] = [];
  for (const [name, flag] of Object.entries(KEY_USAGE_FLAGS)) {
    if (name !== 'signing' && (keyUsage & flag) !== 0) names.push(name);
  }
  for (const oid of extendedKeyUsages) {
    const name = Object.entries(EXTENDED_KEY_USAGE_OIDS).find(([n, o]) => o === oid && n !== 's/mime')?.[0];
    names.push(name ?? oid);
  }
  return names;
}
