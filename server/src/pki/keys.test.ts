import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KeyAlgorithm, KeyEncoding } from '../attributes/certificate-spec.js';
import { InvalidArgumentError } from '../common/errors.js';
import {
  decodePrivateKey,
  describeKeyShape,
  encodePrivateKey,
  generateKey,
  keySpecOf,
  publicKeySpecOf,
} from './keys.js';
import { opensslOn } from './testing/openssl.js';

interface KeyCase {
  algorithm: KeyAlgorithm;
  size: number;
  encoding: KeyEncoding;
  header: string;
  /** What `openssl pkey -text` prints for this key. */
  text: RegExp;
}

const cases: KeyCase[] = [
  {
    algorithm: 'RSA',
    size: 2048,
    encoding: 'PKCS1',
    header: 'RSA PRIVATE KEY',
    text: /Private-Key: \(2048 bit/,
  },
  { algorithm: 'RSA', size: 2048, encoding: 'PKCS8', header: 'PRIVATE KEY', text: /Private-Key: \(2048 bit/ },
  { algorithm: 'RSA', size: 3072, encoding: 'PKCS8', header: 'PRIVATE KEY', text: /Private-Key: \(3072 bit/ },
  {
    algorithm: 'RSA',
    size: 4096,
    encoding: 'PKCS1',
    header: 'RSA PRIVATE KEY',
    text: /Private-Key: \(4096 bit/,
  },
  { algorithm: 'ECDSA', size: 256, encoding: 'PKCS1', header: 'EC PRIVATE KEY', text: /NIST CURVE: P-256/ },
  { algorithm: 'ECDSA', size: 256, encoding: 'PKCS8', header: 'PRIVATE KEY', text: /NIST CURVE: P-256/ },
  { algorithm: 'ECDSA', size: 384, encoding: 'PKCS1', header: 'EC PRIVATE KEY', text: /NIST CURVE: P-384/ },
  { algorithm: 'ECDSA', size: 384, encoding: 'PKCS8', header: 'PRIVATE KEY', text: /NIST CURVE: P-384/ },
  { algorithm: 'ECDSA', size: 521, encoding: 'PKCS1', header: 'EC PRIVATE KEY', text: /NIST CURVE: P-521/ },
  { algorithm: 'ECDSA', size: 521, encoding: 'PKCS8', header: 'PRIVATE KEY', text: /NIST CURVE: P-521/ },
  { algorithm: 'Ed25519', size: 0, encoding: 'PKCS8', header: 'PRIVATE KEY', text: /ED25519 Private-Key/ },
];

describe('generateKey + encodePrivateKey', () => {
  it.each(cases)('$algorithm $size $encoding is accepted by openssl', async (c) => {
    const keys = await generateKey(c);
    const pem = encodePrivateKey(keys.privateKey, c.encoding);
    expect(pem.startsWith(`-----BEGIN ${c.header}-----\n`)).toBe(true);

    expect((await opensslOn(pem, 'pkey', '-in', '{}', '-noout')).code).toBe(0);
    const text = await opensslOn(pem, 'pkey', '-in', '{}', '-noout', '-text');
    expect(text.stdout).toMatch(c.text);

    // A caller that knows the key's shape (a pooled key) gets the same PEM without the lookup.
    expect(encodePrivateKey(keys.privateKey, c.encoding, { algorithm: c.algorithm, size: c.size })).toBe(pem);

    const decoded = decodePrivateKey(pem);
    expect(keySpecOf(decoded)).toEqual({ algorithm: c.algorithm, size: c.size });
    expect(keySpecOf(keys.publicKey)).toEqual({ algorithm: c.algorithm, size: c.size });
    expect(createPublicKey(decoded).export({ type: 'spki', format: 'pem' })).toBe(
      keys.publicKey.export({ type: 'spki', format: 'pem' }),
    );
  });
});

describe('publicKeySpecOf', () => {
  it.each([
    { name: 'ECDSA P-256', algorithm: 'ECDSA' as const, size: 256 },
    { name: 'ECDSA P-384', algorithm: 'ECDSA' as const, size: 384 },
    { name: 'ECDSA P-521', algorithm: 'ECDSA' as const, size: 521 },
    { name: 'RSA 2048', algorithm: 'RSA' as const, size: 2048 },
    { name: 'Ed25519', algorithm: 'Ed25519' as const, size: 0 },
  ])('reads $name from the SubjectPublicKeyInfo as keySpecOf does', async ({ algorithm, size }) => {
    const keys = await generateKey({ algorithm, size });
    const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(publicKeySpecOf(key, spki)).toEqual({ algorithm, size });
    expect(publicKeySpecOf(key, spki)).toEqual(keySpecOf(key));
  });

  it('asks the key when the DER names no curve it knows', async () => {
    const keys = await generateKey({ algorithm: 'ECDSA', size: 384 });
    expect(publicKeySpecOf(keys.publicKey, Buffer.from([0x30, 0x00]))).toEqual({
      algorithm: 'ECDSA',
      size: 384,
    });
  });

  it('refuses an EC curve it does not support, as keySpecOf', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    expect(() => publicKeySpecOf(publicKey, spki)).toThrow(InvalidArgumentError);
  });
});

describe('rejections', () => {
  it.each([
    { name: 'RSA 1024', spec: { algorithm: 'RSA' as const, size: 1024 }, attribute: 'key-size' },
    { name: 'RSA 16384', spec: { algorithm: 'RSA' as const, size: 16384 }, attribute: 'key-size' },
    { name: 'ECDSA 224', spec: { algorithm: 'ECDSA' as const, size: 224 }, attribute: 'key-size' },
    {
      name: 'unknown algorithm',
      spec: { algorithm: 'DSA' as KeyAlgorithm, size: 2048 },
      attribute: 'key-algorithm',
    },
  ])('generateKey rejects $name', async ({ spec, attribute }) => {
    const err = await generateKey(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(`csi.k8s.cert-driver/${attribute}`);
  });

  it('Ed25519 has no PKCS#1 encoding', async () => {
    const keys = await generateKey({ algorithm: 'Ed25519', size: 0 });
    expect(() => encodePrivateKey(keys.privateKey, 'PKCS1')).toThrow(InvalidArgumentError);
    expect(() => encodePrivateKey(keys.privateKey, 'PKCS1', { algorithm: 'Ed25519', size: 0 })).toThrow(
      InvalidArgumentError,
    );
  });

  it.each([
    { name: 'garbage', pem: 'not a key' },
    {
      name: 'a public key',
      pem: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    },
    {
      name: 'an encrypted key',
      pem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'secret',
      }),
    },
    {
      name: 'an unsupported curve',
      pem: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    },
    {
      name: 'an X25519 key',
      pem: generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    },
  ])('decodePrivateKey rejects $name naming the field', ({ pem }) => {
    const err = (() => {
      try {
        decodePrivateKey(pem as string, 'CA_KEY_FILE');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('CA_KEY_FILE');
    expect((err as Error).message).not.toContain('BEGIN');
  });
});

describe('describeKeyShape', () => {
  it.each([
    { shape: { algorithm: 'ECDSA' as const, size: 384 }, want: 'ECDSA P-384' },
    { shape: { algorithm: 'RSA' as const, size: 2048 }, want: 'RSA 2048' },
    { shape: { algorithm: 'Ed25519' as const, size: 0 }, want: 'Ed25519' },
  ])('$want', ({ shape, want }) => expect(describeKeyShape(shape)).toBe(want));
});
