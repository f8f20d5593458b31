import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_NAMES, CERT_MANAGER_PREFIX } from './attribute-table.js';
import { SPIFFE_ALLOWED_ATTRIBUTES, type SpiffeMode } from './spiffe-mode.js';
import { P, catchInvalid, parse } from './test-helpers.js';

const SPIFFE: SpiffeMode = { trustDomain: 'example.org', durationSeconds: 3600, ecdsaSize: 256 };

describe('SPIFFE mode', () => {
  it("gives every volume its service account's SVID shape", () => {
    const spec = parse({}, { spiffe: SPIFFE });
    expect(spec).toMatchObject({
      uris: ['spiffe://example.org/ns/shop/sa/web-sa'],
      dnsNames: [],
      ipAddresses: [],
      emailAddresses: [],
      subject: { organizations: [], countries: [] },
      usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
      isCA: false,
      durationSeconds: 3600,
      key: { algorithm: 'ECDSA', size: 256, encoding: 'PKCS1' },
    });
    expect(spec.subject.commonName).toBeUndefined();
    expect(spec.issuer.name).toBeUndefined();
  });

  it('uses the configured curve', () => {
    expect(parse({}, { spiffe: { ...SPIFFE, ecdsaSize: 384 } }).key.size).toBe(384);
  });

  it.each(ATTRIBUTE_NAMES.filter((n) => !SPIFFE_ALLOWED_ATTRIBUTES.includes(n)))(
    'refuses %s with INVALID_ARGUMENT naming the attribute',
    (name) => {
      const err = catchInvalid(() => parse({ [name]: 'x' }, { spiffe: SPIFFE }));
      expect(err.field).toBe(P + name);
      expect(err.reason).toMatch(/not allowed in SPIFFE mode/);
    },
  );

  it('names the attribute under the cert-manager prefix as written', () => {
    const err = catchInvalid(() => parse({ [`${CERT_MANAGER_PREFIX}dns-names`]: 'a' }, { spiffe: SPIFFE }));
    expect(err.field).toBe(`${CERT_MANAGER_PREFIX}dns-names`);
  });

  it('keeps what csi-driver-spiffe allows and what only says where files go', () => {
    const spec = parse(
      {
        'fs-group': '456',
        'certificate-file': 'svid.pem',
        'privatekey-file': 'svid_key.pem',
        'ca-file': 'bundle.pem',
        'key-encoding': 'PKCS8',
        'renew-before': '20m',
      },
      { spiffe: SPIFFE },
    );
    expect(spec).toMatchObject({
      fsGroup: 456,
      files: { certificate: 'svid.pem', privateKey: 'svid_key.pem', ca: 'bundle.pem' },
      key: { encoding: 'PKCS8' },
      renewBeforeSeconds: 1200,
    });
  });

  it('refuses a renew-before not shorter than the SPIFFE duration', () => {
    const err = catchInvalid(() => parse({ 'renew-before': '1h' }, { spiffe: SPIFFE }));
    expect(err.field).toBe(`${P}renew-before`);
    expect(err.reason).toMatch(/SPIFFE certificate duration \(1h\)/);
  });

  it('changes nothing without SPIFFE mode', () => {
    expect(parse({ 'dns-names': 'a.example.org' }).dnsNames).toEqual(['a.example.org']);
  });
});
