/**
 * Signature schemes: which algorithm a key signs with and how it is named in DER. RSA →
 * sha256WithRSAEncryption (PKCS#1 v1.5); ECDSA P-256/384/521 → ecdsa-with-SHA256/384/512;
 * Ed25519 → Ed25519. Signing and verification use node:crypto directly (no WebCrypto round trip).
 * Verification also accepts SHA-384/512 RSA signatures; SHA-1, MD5 and RSA-PSS are refused.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import * as der from './der.js';
import type { KeyShape } from './keys.js';

export interface SignatureScheme {
  oid: string;
  /** node:crypto digest name; null for Ed25519 (pure EdDSA). */
  hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** The `asymmetricKeyType` of keys that sign with this scheme. */
  keyType: 'rsa' | 'ec' | 'ed25519';
  /** DER AlgorithmIdentifier (RSA with NULL parameters, ECDSA and Ed25519 without). */
  algorithmIdentifier: Buffer;
}

function scheme(
  oid: string,
  hash: SignatureScheme['hash'],
  keyType: SignatureScheme['keyType'],
): SignatureScheme {
  const params = keyType === 'rsa' ? [der.NULL] : [];
  return { oid, hash, keyType, algorithmIdentifier: der.sequence(der.oid(oid), ...params) };
}

const SCHEMES: readonly SignatureScheme[] = [
  scheme('1.2.840.113549.1.1.11', 'sha256', 'rsa'),
  scheme('1.2.840.113549.1.1.12', 'sha384', 'rsa'),
  scheme('1.2.840.113549.1.1.13', 'sha512', 'rsa'),
  scheme('1.2.840.10045.4.3.2', 'sha256', 'ec'),
  scheme('1.2.840.10045.4.3.3', 'sha384', 'ec'),
  scheme('1.2.840.10045.4.3.4', 'sha512', 'ec'),
  scheme('1.3.101.112', null, 'ed25519'),
];

const byOid = new Map(SCHEMES.map((s) => [s.oid, s]));
const ECDSA_OID: Readonly<Record<number, string>> = {
  256: '1.2.840.10045.4.3.2',
  384: '1.2.840.10045.4.3.3',
  521: '1.2.840.10045.4.3.4',
};

/** The scheme a key of this shape signs with. */
export function signatureSchemeOf(shape: KeyShape): SignatureScheme {
  const oid =
    shape.algorithm === 'RSA'
      ? '1.2.840.113549.1.1.11'
      : shape.algorithm === 'ECDSA'
        ? (ECDSA_OID[shape.size] ?? '1.2.840.10045.4.3.2')
        : '1.3.101.112';
  return byOid.get(oid) as SignatureScheme;
}

/** A scheme this project accepts on a signature it verifies, or undefined. */
export function signatureSchemeOfOid(oid: string): SignatureScheme | undefined {
  return byOid.get(oid);
}

/** Signs `data`; ECDSA signatures come out DER-encoded as X.509 wants them. */
export function signWith(privateKey: KeyObject, s: SignatureScheme, data: Uint8Array): Buffer {
  return sign(s.hash, data, { key: privateKey, dsaEncoding: 'der' });
}

/** True when `signature` over `data` verifies; false for any failure, including a key of another type than the scheme's. */
export function verifyWith(
  publicKey: KeyObject,
  s: SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.asymmetricKeyType !== s.keyType) return false;
  try {
    return verify(s.hash, data, { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
