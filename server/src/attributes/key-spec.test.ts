import { describe, it, expect } from 'vitest';
import type { CertificateSpec } from './certificate-spec.js';
import { P, parse, catchInvalid } from './test-helpers.js';

type Case = {
  name: string;
  attrs: Record<string, string>;
  pick: (s: CertificateSpec) => unknown;
  want: unknown;
};

describe('key-algorithm, key-size, key-encoding', () => {
  it.each<Case>([
    {
      name: 'key-algorithm rsa',
      attrs: { 'key-algorithm': 'rsa' },
      pick: (s) => s.key,
      want: { algorithm: 'RSA', size: 2048, encoding: 'PKCS1' },
    },
    {
      name: 'key-algorithm ecdsa',
      attrs: { 'key-algorithm': 'ecdsa' },
      pick: (s) => s.key,
      want: { algorithm: 'ECDSA', size: 256, encoding: 'PKCS1' },
    },
    {
      name: 'key-algorithm ed25519',
      attrs: { 'key-algorithm': 'ED25519' },
      pick: (s) => s.key,
      want: { algorithm: 'Ed25519', size: 0, encoding: 'PKCS8' },
    },
    {
      name: 'key-size RSA 3072',
      attrs: { 'key-algorithm': 'RSA', 'key-size': '3072' },
      pick: (s) => s.key.size,
      want: 3072,
    },
    {
      name: 'key-size RSA 8192',
      attrs: { 'key-algorithm': 'RSA', 'key-size': '8192' },
      pick: (s) => s.key.size,
      want: 8192,
    },
    { name: 'key-size ECDSA 384', attrs: { 'key-size': '384' }, pick: (s) => s.key.size, want: 384 },
    {
      name: 'key-size ECDSA 521',
      attrs: { 'key-algorithm': 'ECDSA', 'key-size': '521' },
      pick: (s) => s.key.size,
      want: 521,
    },
    {
      name: 'key-encoding PKCS8',
      attrs: { 'key-encoding': 'pkcs8' },
      pick: (s) => s.key.encoding,
      want: 'PKCS8',
    },
    {
      name: 'key-encoding PKCS1 RSA',
      attrs: { 'key-algorithm': 'RSA', 'key-encoding': 'PKCS1' },
      pick: (s) => s.key.encoding,
      want: 'PKCS1',
    },
    {
      name: 'key-encoding PKCS8 Ed25519',
      attrs: { 'key-algorithm': 'Ed25519', 'key-encoding': 'PKCS8' },
      pick: (s) => s.key.encoding,
      want: 'PKCS8',
    },
  ])('$name', ({ attrs, pick, want }) => {
    expect(pick(parse(attrs))).toEqual(want);
  });

  type Reject = { name: string; attrs: Record<string, string>; field: string; phrase: string };

  it.each<Reject>([
    {
      name: 'key-algorithm',
      attrs: { 'key-algorithm': 'DSA' },
      field: 'key-algorithm',
      phrase: "must be RSA, ECDSA or Ed25519, got 'DSA'",
    },
    {
      name: 'key-size RSA small',
      attrs: { 'key-algorithm': 'RSA', 'key-size': '1024' },
      field: 'key-size',
      phrase: 'from 2048 to 8192 in steps of 1024',
    },
    {
      name: 'key-size RSA odd',
      attrs: { 'key-algorithm': 'RSA', 'key-size': '2049' },
      field: 'key-size',
      phrase: 'from 2048 to 8192',
    },
    {
      name: 'key-size RSA big',
      attrs: { 'key-algorithm': 'RSA', 'key-size': '9216' },
      field: 'key-size',
      phrase: 'from 2048 to 8192',
    },
    {
      name: 'key-size ECDSA',
      attrs: { 'key-size': '2048' },
      field: 'key-size',
      phrase: "ECDSA curve size 256, 384 or 521, got '2048'",
    },
    {
      name: 'key-size not a number',
      attrs: { 'key-size': 'big' },
      field: 'key-size',
      phrase: 'ECDSA curve size',
    },
    {
      name: 'key-size Ed25519',
      attrs: { 'key-algorithm': 'Ed25519', 'key-size': '256' },
      field: 'key-size',
      phrase: 'must not be set for Ed25519',
    },
    {
      name: 'key-encoding',
      attrs: { 'key-encoding': 'DER' },
      field: 'key-encoding',
      phrase: "must be PKCS1 or PKCS8, got 'DER'",
    },
    {
      name: 'key-encoding PKCS1 Ed25519',
      attrs: { 'key-algorithm': 'Ed25519', 'key-encoding': 'PKCS1' },
      field: 'key-encoding',
      phrase: 'PKCS1 cannot encode Ed25519 keys; use PKCS8',
    },
  ])('rejects $name', ({ attrs, field, phrase }) => {
    const e = catchInvalid(() => parse(attrs));
    expect(e.field).toBe(P + field);
    expect(e.reason).toContain(phrase);
  });
});
