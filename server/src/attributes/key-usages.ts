/**
 * Key usages in cert-manager's spelling (cert-manager.io/v1 KeyUsage), both X.509 key usages and
 * extended key usages.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import type { KeyAlgorithm } from './certificate-spec.js';

export const KEY_USAGES = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

const KNOWN: ReadonlySet<string> = new Set(KEY_USAGES);

/** Usages when `key-usages` is not set; `key encipherment` only applies to RSA keys. */
export function defaultKeyUsages(algorithm: KeyAlgorithm): KeyUsage[] {
  return algorithm === 'RSA'
    ? ['digital signature', 'key encipherment', 'server auth', 'client auth']
    : ['digital signature', 'server auth', 'client auth'];
}

/**
 * Parses a comma-separated, case-insensitive usage list into lower-case cert-manager spellings,
 * in the given order with repeats dropped. Rejects unknown and empty entries.
 */
export function parseKeyUsages(field: string, text: string): KeyUsage[] {
  const result: KeyUsage[] = [];
  for (const raw of text.split(',')) {
    const usage = raw.trim().toLowerCase();
    if (usage === '') throw new InvalidArgumentError(field, `contains an empty entry in ${quoteValue(text)}`);
    if (!isKeyUsage(usage)) {
      throw new InvalidArgumentError(
        field,
        `unknown key usage ${quoteValue(raw.trim())}; known usages: ${KEY_USAGES.join(', ')}`,
      );
    }
    if (!result.includes(usage)) result.push(usage);
  }
  return result;
}

/** The final usage list: explicit or default, plus `cert sign` for a CA. */
export function resolveKeyUsages(input: {
  field: string;
  text: string | undefined;
  algorithm: KeyAlgorithm;
  isCA: boolean;
}): KeyUsage[] {
  const usages =
    input.text === undefined ? defaultKeyUsages(input.algorithm) : parseKeyUsages(input.field, input.text);
  if (input.isCA && !usages.includes('cert sign')) usages.push('cert sign');
  return usages;
}

function isKeyUsage(s: string): s is KeyUsage {
  return KNOWN.has(s);
}
