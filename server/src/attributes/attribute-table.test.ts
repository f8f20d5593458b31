import { describe, it, expect } from 'vitest';
import { ATTRIBUTES, ATTRIBUTE_NAMES } from './attribute-table.js';
import { parse } from './test-helpers.js';

describe('ATTRIBUTES', () => {
  it('has unique names, a description and an example for each', () => {
    expect(new Set(ATTRIBUTE_NAMES).size).toBe(ATTRIBUTES.length);
    for (const a of ATTRIBUTES) {
      expect(a.description.length, a.name).toBeGreaterThan(10);
      expect(a.example, a.name).not.toBe('');
    }
  });

  it('covers cert-manager csi-driver attributes', () => {
    for (const name of [
      'issuer-name',
      'issuer-kind',
      'issuer-group',
      'common-name',
      'key-usages',
      'dns-names',
      'ip-sans',
      'uri-sans',
      'duration',
      'is-ca',
      'certificate-file',
      'privatekey-file',
      'renew-before',
      'disable-auto-renew',
      'reuse-private-key',
      'ca-file',
      'key-algorithm',
      'key-size',
      'key-encoding',
      'fs-group',
      'pkcs12-enable',
      'pkcs12-filename',
      'pkcs12-password',
    ]) {
      expect(ATTRIBUTE_NAMES).toContain(name);
    }
  });

  it('every example value parses', () => {
    const needs: Record<string, Record<string, string>> = {
      'issuer-kind': { 'issuer-name': 'ca' },
      'issuer-group': { 'issuer-name': 'ca' },
      'pkcs12-filename': { 'pkcs12-enable': 'true' },
      'pkcs12-password': { 'pkcs12-enable': 'true' },
      'key-size': { 'key-algorithm': 'ECDSA' },
    };
    for (const a of ATTRIBUTES) {
      expect(() => parse({ ...needs[a.name], [a.name]: a.example }), a.name).not.toThrow();
    }
  });
});
