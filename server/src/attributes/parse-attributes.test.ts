import { describe, it, expect } from 'vitest';
import { emptySubject, type CertificateSpec, type IssuerRef } from './certificate-spec.js';
import { itParses, itRejects, parse } from './test-helpers.js';

describe('parseVolumeAttributes defaults', () => {
  it('turns an empty attribute set into the primary spec defaults', () => {
    expect(parse({ 'csi.storage.k8s.io/pod.name': 'web-0', 'other.io/x': 'y' })).toEqual({
      issuer: { kind: 'Issuer', group: 'cert-manager.io' },
      subject: {
        commonName: 'web-0.shop.svc.cluster.local',
        ...emptySubject(),
      },
      dnsNames: ['web-0'],
      ipAddresses: [],
      uris: [],
      emailAddresses: [],
      usages: ['digital signature', 'server auth', 'client auth'],
      isCA: false,
      durationSeconds: 7 * 24 * 3600,
      renewBeforeSeconds: undefined,
      key: { algorithm: 'ECDSA', size: 256, encoding: 'PKCS1' },
      reusePrivateKey: false,
      disableAutoRenew: false,
      files: { certificate: 'tls.crt', privateKey: 'tls.key', ca: 'ca.crt' },
      pkcs12Password: undefined,
      fsGroup: undefined,
    } satisfies CertificateSpec);
  });
});

describe('parseVolumeAttributes happy paths', () => {
  const CM = 'cert-manager.io';
  it.each<{ name: string; attrs: Record<string, string>; want: IssuerRef }>([
    { name: 'issuer-name', attrs: { 'issuer-name': 'ca' }, want: { name: 'ca', kind: 'Issuer', group: CM } },
    {
      name: 'issuer-kind',
      attrs: { 'issuer-name': 'ca', 'issuer-kind': 'ClusterIssuer' },
      want: { name: 'ca', kind: 'ClusterIssuer', group: CM },
    },
    {
      name: 'issuer-group + any kind',
      attrs: { 'issuer-name': 'pca', 'issuer-group': `awspca.${CM}`, 'issuer-kind': 'AWSPCAClusterIssuer' },
      want: { name: 'pca', kind: 'AWSPCAClusterIssuer', group: `awspca.${CM}` },
    },
    {
      name: 'issuer-group keeps Issuer default',
      attrs: { 'issuer-name': 'v', 'issuer-group': 'example.com' },
      want: { name: 'v', kind: 'Issuer', group: 'example.com' },
    },
  ])('the issuer of $name', ({ attrs, want }) => {
    expect(parse(attrs).issuer).toEqual(want);
  });

  itParses([
    ['duration', { duration: '24h' }, (s) => s.durationSeconds, 86_400],
    ['duration 1h30m', { duration: '1h30m' }, (s) => s.durationSeconds, 5400],
    ['duration min', { duration: '60s' }, (s) => s.durationSeconds, 60],
    ['duration max', { duration: '8760h' }, (s) => s.durationSeconds, 31_536_000],
    ['renew-before', { duration: '24h', 'renew-before': '8h' }, (s) => s.renewBeforeSeconds, 28_800],
    [
      'renew-before with default duration',
      { 'renew-before': '167h59m59s' },
      (s) => s.renewBeforeSeconds,
      604_799,
    ],
    ['is-ca true', { 'is-ca': 'true' }, (s) => [s.isCA, s.usages.includes('cert sign')], [true, true]],
    ['is-ca false', { 'is-ca': 'false' }, (s) => [s.isCA, s.usages.includes('cert sign')], [false, false]],
    ['disable-auto-renew', { 'disable-auto-renew': 'true' }, (s) => s.disableAutoRenew, true],
    ['reuse-private-key', { 'reuse-private-key': 'true' }, (s) => s.reusePrivateKey, true],
    [
      'key-usages',
      { 'key-usages': 'Digital Signature, Client Auth' },
      (s) => s.usages,
      ['digital signature', 'client auth'],
    ],
    [
      'key-usages RSA default',
      { 'key-algorithm': 'RSA' },
      (s) => s.usages,
      ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    ],
  ]);
});

describe('parseVolumeAttributes rejections', () => {
  itRejects([
    ['unknown attribute', { 'dns-name': 'a' }, "did you mean 'csi.k8s.cert-driver/dns-names'"],
    ['issuer-name empty', { 'issuer-name': '' }, 'must not be empty'],
    ['issuer-name invalid', { 'issuer-name': 'CA_Issuer' }, 'DNS-1123 subdomain'],
    [
      'issuer-kind without name',
      { 'issuer-kind': 'ClusterIssuer' },
      'requires csi.k8s.cert-driver/issuer-name',
    ],
    [
      'issuer-group without name',
      { 'issuer-group': 'example.com' },
      'requires csi.k8s.cert-driver/issuer-name',
    ],
    [
      'issuer-kind for cert-manager.io',
      { 'issuer-name': 'a', 'issuer-kind': 'clusterissuer' },
      "must be Issuer or ClusterIssuer for group cert-manager.io, got 'clusterissuer'",
    ],
    [
      'issuer-kind explicit cert-manager.io',
      { 'issuer-name': 'a', 'issuer-group': 'cert-manager.io', 'issuer-kind': 'Vault' },
      'must be Issuer or ClusterIssuer',
    ],
    [
      'issuer-kind malformed',
      { 'issuer-name': 'a', 'issuer-group': 'example.com', 'issuer-kind': 'my-issuer' },
      'must be a Kubernetes kind',
    ],
    ['issuer-group empty', { 'issuer-name': 'a', 'issuer-group': '' }, 'must not be empty'],
    ['issuer-group malformed', { 'issuer-name': 'a', 'issuer-group': 'Example.com' }, 'DNS-1123 subdomain'],
    ['duration syntax', { duration: 'abc' }, "must be a Go duration like 24h or 1h30m, got 'abc'"],
    ['duration plain seconds', { duration: '3600' }, 'a unit is required'],
    ['duration days', { duration: '7d' }, 'a day is 24h'],
    ['duration too short', { duration: '59s' }, 'must be between 1m and 8760h'],
    ['duration too long', { duration: '8761h' }, 'must be between 1m and 8760h'],
    ['duration fraction', { duration: '90.5s' }, 'whole number of seconds'],
    ['renew-before syntax', { 'renew-before': '1 day' }, 'must be a Go duration'],
    ['renew-before zero', { 'renew-before': '0s' }, 'must be between 1s and'],
    ['renew-before negative', { 'renew-before': '-1h' }, 'must be between 1s and'],
    [
      'renew-before = duration',
      { duration: '24h', 'renew-before': '24h' },
      "must be less than the duration (24h), got '24h'",
    ],
    ['renew-before > default duration', { 'renew-before': '200h' }, 'must be less than the duration (168h)'],
    ['is-ca not strict', { 'is-ca': 'yes' }, 'must be "true" or "false", got \'yes\''],
    ['is-ca capitalised', { 'is-ca': 'True' }, 'must be "true" or "false"'],
    ['disable-auto-renew', { 'disable-auto-renew': '1' }, 'must be "true" or "false"'],
    ['reuse-private-key', { 'reuse-private-key': '' }, 'must be "true" or "false"'],
    ['key-usages unknown', { 'key-usages': 'server auth,sign' }, "unknown key usage 'sign'"],
  ]);
});
