import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import { keyUsageExtension } from './extensions.js';
import { KNOWN_USAGES, KeyUsageFlags as F, resolveUsages, usageNamesOf } from './usages.js';
import { x509 } from './x509.js';

describe('resolveUsages', () => {
  /** Each KeyUsage bit and the cert-manager spellings of it. */
  const KEY_USAGE_SPELLINGS: [number, string[]][] = [
    [F.digitalSignature, ['signing', 'digital signature']],
    [F.nonRepudiation, ['content commitment']],
    [F.keyEncipherment, ['key encipherment']],
    [F.keyAgreement, ['key agreement']],
    [F.dataEncipherment, ['data encipherment']],
    [F.keyCertSign, ['cert sign']],
    [F.cRLSign, ['crl sign']],
    [F.encipherOnly, ['encipher only']],
    [F.decipherOnly, ['decipher only']],
  ];
  it.each(
    KEY_USAGE_SPELLINGS.flatMap(([keyUsage, spellings]) => spellings.map((usage) => ({ usage, keyUsage }))),
  )('key usage "$usage"', ({ usage, keyUsage }) => {
    expect(resolveUsages([usage])).toEqual({ keyUsage, extendedKeyUsages: [] });
  });

  /** Each extended key usage OID and the cert-manager spellings of it. */
  const EKU_SPELLINGS: Record<string, string[]> = {
    '2.5.29.37.0': ['any'],
    '1.3.6.1.5.5.7.3.1': ['server auth'],
    '1.3.6.1.5.5.7.3.2': ['client auth'],
    '1.3.6.1.5.5.7.3.3': ['code signing'],
    '1.3.6.1.5.5.7.3.4': ['email protection', 's/mime'],
    '1.3.6.1.5.5.7.3.5': ['ipsec end system'],
    '1.3.6.1.5.5.7.3.6': ['ipsec tunnel'],
    '1.3.6.1.5.5.7.3.7': ['ipsec user'],
    '1.3.6.1.5.5.7.3.8': ['timestamping'],
    '1.3.6.1.5.5.7.3.9': ['ocsp signing'],
    '1.3.6.1.4.1.311.10.3.3': ['microsoft sgc'],
    '2.16.840.1.113730.4.1': ['netscape sgc'],
  };
  it.each(
    Object.entries(EKU_SPELLINGS).flatMap(([oid, spellings]) => spellings.map((usage) => ({ usage, oid }))),
  )('extended key usage "$usage"', ({ usage, oid }) => {
    expect(resolveUsages([usage])).toEqual({ keyUsage: 0, extendedKeyUsages: [oid] });
  });

  it('knows all 23 cert-manager spellings', () => {
    expect(KNOWN_USAGES).toHaveLength(23);
    expect(new Set(KNOWN_USAGES).size).toBe(23);
  });

  it('combines, deduplicates aliases and ignores case and padding', () => {
    expect(
      resolveUsages([' Digital Signature', 'signing', 'S/MIME', 'email protection', 'server auth']),
    ).toEqual({
      keyUsage: F.digitalSignature,
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.1'],
    });
  });

  it('rejects an unknown usage naming the field', () => {
    expect(() => resolveUsages(['server auth', 'serverAuth'], 'key-usages')).toThrow(InvalidArgumentError);
    try {
      resolveUsages(['serverAuth'], 'key-usages');
    } catch (e) {
      expect((e as InvalidArgumentError).field).toBe('key-usages');
      expect((e as Error).message).toContain("'serverAuth'");
    }
  });
});

describe('KeyUsage encoding', () => {
  it.each(Object.entries(F).map(([name, flag]) => ({ name, flag })))(
    '$name round-trips through @peculiar/x509',
    ({ flag }) => {
      const ext = new x509.KeyUsagesExtension(new Uint8Array(keyUsageExtension(flag)));
      expect(ext.usages).toBe(flag);
      expect(ext.critical).toBe(true);
    },
  );

  it('reads names back in canonical spelling', () => {
    expect(usageNamesOf(F.digitalSignature | F.keyCertSign, ['1.3.6.1.5.5.7.3.4', '1.2.3'])).toEqual([
      'digital signature',
      'cert sign',
      'email protection',
      '1.2.3',
    ]);
  });
});
