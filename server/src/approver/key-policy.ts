/**
 * Which keys the approver accepts (ALLOWED_KEYS), a check csi-driver-spiffe's approver does not make:
 * `ECDSA-256`, `ECDSA-384`, `ECDSA-521` name curves, `RSA-3072` means RSA of at least 3072 bits,
 * `Ed25519` allows Ed25519. Parsing errors name the setting.
 */
import type { KeyShape } from '../pki/keys.js';

export interface KeyPolicy {
  /** Allowed ECDSA curve sizes (256, 384, 521). */
  ecdsaSizes: readonly number[];
  /** Minimum RSA modulus bits; undefined = RSA keys are not allowed. */
  rsaMinBits?: number | undefined;
  ed25519: boolean;
}

export const DEFAULT_ALLOWED_KEYS = 'ECDSA-256,ECDSA-384,ECDSA-521';

/** Parses `ECDSA-256,RSA-3072,Ed25519`; returns the policy or a reason naming the bad entry. */
export function parseKeyPolicy(text: string): KeyPolicy | string {
  const policy: { ecdsaSizes: number[]; rsaMinBits?: number; ed25519: boolean } = {
    ecdsaSizes: [],
    ed25519: false,
  };
  const entries = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (entries.length === 0) return 'must list at least one key type, e.g. ECDSA-256';
  for (const entry of entries) {
    if (entry === 'Ed25519') {
      policy.ed25519 = true;
      continue;
    }
    const m = /^(RSA|ECDSA)-(\d+)$/.exec(entry);
    const size = Number(m?.[2]);
    if (m?.[1] === 'ECDSA' && [256, 384, 521].includes(size)) {
      if (!policy.ecdsaSizes.includes(size)) policy.ecdsaSizes.push(size);
    } else if (m?.[1] === 'RSA' && size >= 2048 && size <= 8192) {
      if (policy.rsaMinBits !== undefined)
        return `lists RSA twice ('${entry}'); RSA-N means at least N bits, give one`;
      policy.rsaMinBits = size;
    } else {
      return `'${entry}' is not a key type like ECDSA-256, ECDSA-384, ECDSA-521, RSA-3072 (minimum bits) or Ed25519`;
    }
  }
  return policy;
}

/** "ECDSA P-256/P-384, RSA ≥ 3072 bits": for denial messages. */
export function describeKeyPolicy(p: KeyPolicy): string {
  const parts: string[] = [];
  if (p.ecdsaSizes.length > 0) parts.push(`ECDSA ${p.ecdsaSizes.map((s) => `P-${s}`).join('/')}`);
  if (p.rsaMinBits !== undefined) parts.push(`RSA ≥ ${p.rsaMinBits} bits`);
  if (p.ed25519) parts.push('Ed25519');
  return parts.join(', ');
}

/** Which rule a key breaks: `key-algorithm` (type not allowed at all), `key-size`, or none. */
export function checkKey(p: KeyPolicy, key: KeyShape): 'key-algorithm' | 'key-size' | undefined {
  switch (key.algorithm) {
    case 'ECDSA':
      if (p.ecdsaSizes.length === 0) return 'key-algorithm';
      return p.ecdsaSizes.includes(key.size) ? undefined : 'key-size';
    case 'RSA':
      if (p.rsaMinBits === undefined) return 'key-algorithm';
      return key.size >= p.rsaMinBits ? undefined : 'key-size';
    case 'Ed25519':
      return p.ed25519 ? undefined : 'key-algorithm';
  }
}
