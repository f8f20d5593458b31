import { describe } from 'vitest';
import { itParses, itRejects } from './test-helpers.js';

describe('key-algorithm, key-size, key-encoding', () => {
  itParses([
    [
      'key-algorithm rsa',
      { 'key-algorithm': 'rsa' },
      (s) => s.key,
      { algorithm: 'RSA', size: 2048, encoding: 'PKCS1' },
    ],
    [
      'key-algorithm ecdsa',
      { 'key-algorithm': 'ecdsa' },
      (s) => s.key,
      { algorithm: 'ECDSA', size: 256, encoding: 'PKCS1' },
    ],
    [
      'key-algorithm ed25519',
      { 'key-algorithm': 'ED25519' },
      (s) => s.key,
      { algorithm: 'Ed25519', size: 0, encoding: 'PKCS8' },
    ],
    ['key-size RSA 3072', { 'key-algorithm': 'RSA', 'key-size': '3072' }, (s) => s.key.size, 3072],
    ['key-size RSA 8192', { 'key-algorithm': 'RSA', 'key-size': '8192' }, (s) => s.key.size, 8192],
    ['key-size ECDSA 384', { 'key-size': '384' }, (s) => s.key.size, 384],
    ['key-size ECDSA 521', { 'key-algorithm': 'ECDSA', 'key-size': '521' }, (s) => s.key.size, 521],
    ['key-encoding PKCS8', { 'key-encoding': 'pkcs8' }, (s) => s.key.encoding, 'PKCS8'],
    [
      'key-encoding PKCS1 RSA',
      { 'key-algorithm': 'RSA', 'key-encoding': 'PKCS1' },
      (s) => s.key.encoding,
      'PKCS1',
    ],
    [
      'key-encoding PKCS8 Ed25519',
      { 'key-algorithm': 'Ed25519', 'key-encoding': 'PKCS8' },
      (s) => s.key.encoding,
      'PKCS8',
    ],
  ]);

  itRejects(
    [
      ['key-algorithm', { 'key-algorithm': 'DSA' }, "must be RSA, ECDSA or Ed25519, got 'DSA'"],
      [
        'key-size RSA small',
        { 'key-algorithm': 'RSA', 'key-size': '1024' },
        'from 2048 to 8192 in steps of 1024',
      ],
      ['key-size RSA odd', { 'key-algorithm': 'RSA', 'key-size': '2049' }, 'from 2048 to 8192'],
      ['key-size RSA big', { 'key-algorithm': 'RSA', 'key-size': '9216' }, 'from 2048 to 8192'],
      ['key-size ECDSA', { 'key-size': '2048' }, "ECDSA curve size 256, 384 or 521, got '2048'"],
      ['key-size not a number', { 'key-size': 'big' }, 'ECDSA curve size'],
      ['key-size Ed25519', { 'key-algorithm': 'Ed25519', 'key-size': '256' }, 'must not be set for Ed25519'],
      ['key-encoding', { 'key-encoding': 'DER' }, "must be PKCS1 or PKCS8, got 'DER'"],
      [
        'key-encoding PKCS1 Ed25519',
        { 'key-algorithm': 'Ed25519', 'key-encoding': 'PKCS1' },
        'PKCS1 cannot encode Ed25519 keys; use PKCS8',
      ],
    ],
    'rejects %s',
  );
});
