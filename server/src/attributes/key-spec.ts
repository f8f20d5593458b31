/** `key-algorithm`, `key-size` and `key-encoding` → KeySpec. */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import type { KeyAlgorithm, KeyEncoding, KeySpec } from './certificate-spec.js';
import type { RawAttributes } from './collect.js';

export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ECDSA';
export const DEFAULT_KEY_ENCODING: KeyEncoding = 'PKCS1';
const DEFAULT_SIZE: Record<KeyAlgorithm, number> = { RSA: 2048, ECDSA: 256, Ed25519: 0 };
const ALGORITHMS: readonly KeyAlgorithm[] = ['RSA', 'ECDSA', 'Ed25519'];
const ENCODINGS: readonly KeyEncoding[] = ['PKCS1', 'PKCS8'];

/** Resolves the key algorithm, size and encoding with their defaults. */
export function parseKeySpec(raw: RawAttributes): KeySpec {
  const algorithm = parseAlgorithm(raw);
  return { algorithm, size: parseSize(raw, algorithm), encoding: parseEncoding(raw, algorithm) };
}

function parseAlgorithm(raw: RawAttributes): KeyAlgorithm {
  const attr = raw.get('key-algorithm');
  if (attr === undefined) return DEFAULT_KEY_ALGORITHM;
  const found = ALGORITHMS.find((a) => a.toLowerCase() === attr.value.trim().toLowerCase());
  if (found === undefined) {
    throw new InvalidArgumentError(attr.key, `must be RSA, ECDSA or Ed25519, got ${quoteValue(attr.value)}`);
  }
  return found;
}

function parseSize(raw: RawAttributes, algorithm: KeyAlgorithm): number {
  const attr = raw.get('key-size');
  if (attr === undefined) return DEFAULT_SIZE[algorithm];
  if (algorithm === 'Ed25519') {
    throw new InvalidArgumentError(attr.key, 'must not be set for Ed25519 keys, which have a fixed size');
  }
  const text = attr.value.trim();
  const size = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (algorithm === 'RSA' && !(size >= 2048 && size <= 8192 && size % 1024 === 0)) {
    throw new InvalidArgumentError(
      attr.key,
      `must be an RSA key size from 2048 to 8192 in steps of 1024 (2048, 3072, 4096, ...), got ${quoteValue(attr.value)}`,
    );
  }
  if (algorithm === 'ECDSA' && ![256, 384, 521].includes(size)) {
    throw new InvalidArgumentError(
      attr.key,
      `must be an ECDSA curve size 256, 384 or 521, got ${quoteValue(attr.value)}`,
    );
  }
  return size;
}

function parseEncoding(raw: RawAttributes, algorithm: KeyAlgorithm): KeyEncoding {
  const attr = raw.get('key-encoding');
  if (attr === undefined) return algorithm === 'Ed25519' ? 'PKCS8' : DEFAULT_KEY_ENCODING;
  const found = ENCODINGS.find((e) => e.toLowerCase() === attr.value.trim().toLowerCase());
  if (found === undefined) {
    throw new InvalidArgumentError(attr.key, `must be PKCS1 or PKCS8, got ${quoteValue(attr.value)}`);
  }
  if (found === 'PKCS1' && algorithm === 'Ed25519') {
    throw new InvalidArgumentError(attr.key, 'PKCS1 cannot encode Ed25519 keys; use PKCS8');
  }
  return found;
}
