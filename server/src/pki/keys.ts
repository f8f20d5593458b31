/**
 * Private keys of the node side and the issuer: generation (RSA, ECDSA P-256/384/521, Ed25519), PEM
 * encoding in PKCS#1/SEC1 or PKCS#8, decoding, and reading a key's shape back. Keys stay `KeyObject`s
 * (native handles); they become PEM text only when written to a volume.
 */
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyEncoding, KeySpec } from '../attributes/certificate-spec.js';
import { InvalidArgumentError } from '../common/errors.js';
import * as der from './der.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /**
   * The public key as DER SubjectPublicKeyInfo, when whoever made the pair exported it already (the
   * key pool's worker does, off the event loop). Public material only; absent means "export it".
   */
  spkiDer?: Buffer | undefined;
  /** The pair's algorithm and size, when known without asking OpenSSL (the key pool asked for it). */
  shape?: KeyShape | undefined;
}

/** The algorithm and size of a key; `size` is 0 for Ed25519, the curve's bits for ECDSA. */
export type KeyShape = Pick<KeySpec, 'algorithm' | 'size'>;

/** Field names used in errors: the volume attributes a user sets. */
const FIELD = {
  algorithm: 'csi.k8s.cert-driver/key-algorithm',
  size: 'csi.k8s.cert-driver/key-size',
  encoding: 'csi.k8s.cert-driver/key-encoding',
} as const;

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;

const CURVE_BY_SIZE: Readonly<Record<number, string>> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };
/** OpenSSL curve names (as reported by `asymmetricKeyDetails.namedCurve`) to bits. */
const SIZE_BY_CURVE: Readonly<Record<string, number>> = {
  prime256v1: 256,
  'P-256': 256,
  secp384r1: 384,
  'P-384': 384,
  secp521r1: 521,
  'P-521': 521,
};

/** Named curve of an ECDSA size (256 → "P-256"); throws InvalidArgumentError for any other size. */
export function curveOfSize(size: number): string {
  const curve = CURVE_BY_SIZE[size];
  if (curve === undefined)
    throw new InvalidArgumentError(FIELD.size, `ECDSA supports 256, 384 or 521, not ${size}`);
  return curve;
}

/** Generates a key pair off the main thread. Throws InvalidArgumentError for an unsupported spec. */
export async function generateKey(spec: KeyShape): Promise<KeyPair> {
  switch (spec.algorithm) {
    case 'RSA':
      if (!Number.isInteger(spec.size) || spec.size < MIN_RSA_BITS || spec.size > MAX_RSA_BITS) {
        throw new InvalidArgumentError(
          FIELD.size,
          `RSA keys are ${MIN_RSA_BITS}–${MAX_RSA_BITS} bits, not ${spec.size}`,
        );
      }
      return generateKeyPairAsync('rsa', { modulusLength: spec.size, publicExponent: 0x10001 });
    case 'ECDSA':
      return generateKeyPairAsync('ec', { namedCurve: curveOfSize(spec.size) });
    case 'Ed25519':
      return generateKeyPairAsync('ed25519');
    default:
      throw new InvalidArgumentError(FIELD.algorithm, `unsupported key algorithm ${String(spec.algorithm)}`);
  }
}

/**
 * PEM of a private key. PKCS1 gives "RSA PRIVATE KEY" for RSA and SEC1 "EC PRIVATE KEY" for ECDSA;
 * PKCS8 gives "PRIVATE KEY". Ed25519 has no PKCS#1 form: asking for it is an InvalidArgumentError.
 * `shape`, when the caller knows it (KeyPair.shape), spares asking the key for it.
 */
export function encodePrivateKey(key: KeyObject, encoding: KeyEncoding, shape?: KeyShape): string {
  if (encoding === 'PKCS8') return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  if (encoding !== 'PKCS1')
    throw new InvalidArgumentError(FIELD.encoding, `unsupported encoding ${String(encoding)}`);
  const { algorithm } = shape ?? keySpecOf(key);
  if (algorithm === 'RSA') return key.export({ type: 'pkcs1', format: 'pem' }) as string;
  if (algorithm === 'ECDSA') return key.export({ type: 'sec1', format: 'pem' }) as string;
  throw new InvalidArgumentError(FIELD.encoding, 'Ed25519 keys have no PKCS#1 form; use PKCS8');
}

/**
 * Parses an unencrypted PEM private key (PKCS#1, SEC1 or PKCS#8) of a supported type. `field` names
 * where it came from in the InvalidArgumentError thrown for anything else; the key is never echoed.
 */
export function decodePrivateKey(pem: string, field = 'private key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new InvalidArgumentError(field, 'not an unencrypted PEM private key (PKCS#1, SEC1 or PKCS#8)');
  }
  keySpecOf(key, field);
  return key;
}

/** Algorithm and size of a public or private key; InvalidArgumentError(field) for an unsupported type. */
export function keySpecOf(key: KeyObject, field = 'key'): KeyShape {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithm: 'RSA', size: details.modulusLength ?? 0 };
    case 'ec': {
      const size = SIZE_BY_CURVE[details.namedCurve ?? ''];
      if (size === undefined)
        throw new InvalidArgumentError(field, `unsupported EC curve ${details.namedCurve}`);
      return { algorithm: 'ECDSA', size };
    }
    case 'ed25519':
      return { algorithm: 'Ed25519', size: 0 };
    default:
      throw new InvalidArgumentError(field, `unsupported key type ${key.asymmetricKeyType ?? key.type}`);
  }
}

/** Named-curve OIDs (RFC 5480) to bits. */
const SIZE_BY_CURVE_OID: Readonly<Record<string, number>> = {
  '1.2.840.10045.3.1.7': 256,
  '1.3.132.0.34': 384,
  '1.3.132.0.35': 521,
};

/**
 * `keySpecOf` for a public key together with the SubjectPublicKeyInfo DER it was made from: an EC
 * key's curve is read from the DER's named-curve parameter (asking OpenSSL for the key's details
 * costs ~15 µs, as much as the rest of reading a CSR); any other key, or DER that does not name a
 * supported curve, goes to `keySpecOf`. `key` must have been created from `spkiDer`.
 */
export function publicKeySpecOf(key: KeyObject, spkiDer: Buffer, field = 'key'): KeyShape {
  if (key.asymmetricKeyType === 'ec') {
    try {
      const [algorithm] = der.readChildren(der.readOnly(spkiDer, der.TAG.SEQUENCE).value);
      const [, curve] = der.readChildren(
        algorithm?.tag === der.TAG.SEQUENCE ? algorithm.value : Buffer.alloc(0),
      );
      const size = curve?.tag === der.TAG.OID ? SIZE_BY_CURVE_OID[der.decodeOid(curve)] : undefined;
      if (size !== undefined) return { algorithm: 'ECDSA', size };
    } catch {
      // not what createPublicKey accepted; let OpenSSL's answer decide
    }
  }
  return keySpecOf(key, field);
}

/** The pair's shape: carried (KeyPair.shape) or read from the private key. */
export function shapeOfPair(keys: KeyPair): KeyShape {
  return keys.shape ?? keySpecOf(keys.privateKey);
}

/** The pair's public key as DER SubjectPublicKeyInfo: carried (KeyPair.spkiDer) or exported now. */
export function spkiDerOfPair(keys: KeyPair): Buffer {
  return keys.spkiDer ?? keys.publicKey.export({ type: 'spki', format: 'der' });
}

/** "ECDSA P-256", "RSA 2048", "Ed25519": for logs and the dashboard. */
export function describeKeyShape(shape: KeyShape): string {
  if (shape.algorithm === 'ECDSA') return `ECDSA ${CURVE_BY_SIZE[shape.size] ?? shape.size}`;
  if (shape.algorithm === 'RSA') return `RSA ${shape.size}`;
  return 'Ed25519';
}
