import { describe, it, expect } from 'vitest';
import { KEY_USAGES, defaultKeyUsages, parseKeyUsages, resolveKeyUsages } from './key-usages.js';
import { catchInvalid } from './test-helpers.js';

const F = 'csi.cert-manager.io/key-usages';

describe('parseKeyUsages', () => {
  it.each([
    { text: 'digital signature', want: ['digital signature'] },
    { text: 'Digital Signature, Server Auth', want: ['digital signature', 'server auth'] },
    { text: ' signing ,timestamping ', want: ['signing', 'timestamping'] },
    { text: 'S/MIME,OCSP Signing', want: ['s/mime', 'ocsp signing'] },
    { text: 'server auth,SERVER AUTH,client auth', want: ['server auth', 'client auth'] },
    { text: KEY_USAGES.join(','), want: [...KEY_USAGES] },
  ])('parses "$text"', ({ text, want }) => {
    expect(parseKeyUsages(F, text)).toEqual(want);
  });

  it.each([
    { text: 'server auth,foo', phrase: "unknown key usage 'foo'" },
    {
      text: 'serverauth',
      phrase: "unknown key usage 'serverauth'; known usages: signing, digital signature",
    },
    { text: 'server auth,,client auth', phrase: 'empty entry' },
    { text: '', phrase: 'empty entry' },
  ])('rejects "$text"', ({ text, phrase }) => {
    const e = catchInvalid(() => parseKeyUsages(F, text));
    expect(e.field).toBe(F);
    expect(e.reason).toContain(phrase);
  });
});

describe('defaultKeyUsages', () => {
  it.each([
    {
      algorithm: 'RSA' as const,
      want: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    },
    { algorithm: 'ECDSA' as const, want: ['digital signature', 'server auth', 'client auth'] },
    { algorithm: 'Ed25519' as const, want: ['digital signature', 'server auth', 'client auth'] },
  ])('$algorithm', ({ algorithm, want }) => {
    expect(defaultKeyUsages(algorithm)).toEqual(want);
  });
});

describe('resolveKeyUsages', () => {
  it.each([
    { text: undefined, isCA: true, want: ['digital signature', 'server auth', 'client auth', 'cert sign'] },
    { text: 'cert sign,crl sign', isCA: true, want: ['cert sign', 'crl sign'] },
    { text: 'server auth', isCA: false, want: ['server auth'] },
    { text: 'server auth', isCA: true, want: ['server auth', 'cert sign'] },
  ])('text=$text isCA=$isCA', ({ text, isCA, want }) => {
    expect(resolveKeyUsages({ field: F, text, algorithm: 'ECDSA', isCA })).toEqual(want);
  });
});
