import { describe, it, expect } from 'vitest';
import { Code, InvalidArgumentError } from '../common/errors.js';
import { emptySubject, type CertificateSpec } from './certificate-spec.js';
import { P, parse, catchInvalid } from './test-helpers.js';

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

type Case = {
  name: string;
  attrs: Record<string, string>;
  pick: (s: CertificateSpec) => unknown;
  want: unknown;
};

describe('parseVolumeAttributes happy paths', () => {
  it.each<Case>([
    {
      name: 'issuer-name',
      attrs: { 'issuer-name': 'ca-issuer' },
      pick: (s) => s.issuer,
      want: { name: 'ca-issuer', kind: 'Issuer', group: 'cert-manager.io' },
    },
    {
      name: 'issuer-kind',
      attrs: { 'issuer-name': 'ca', 'issuer-kind': 'ClusterIssuer' },
      pick: (s) => s.issuer.kind,
      want: 'ClusterIssuer',
    },
    {
      name: 'issuer-group + any kind',
      attrs: {
        'issuer-name': 'pca',
        'issuer-group': 'awspca.cert-manager.io',
        'issuer-kind': 'AWSPCAClusterIssuer',
      },
      pick: (s) => s.issuer,
      want: { name: 'pca', kind: 'AWSPCAClusterIssuer', group: 'awspca.cert-manager.io' },
    },
    {
      name: 'issuer-group keeps Issuer default',
      attrs: { 'issuer-name': 'v', 'issuer-group': 'example.com' },
      pick: (s) => s.issuer.kind,
      want: 'Issuer',
    },
    { name: 'duration', attrs: { duration: '24h' }, pick: (s) => s.durationSeconds, want: 86_400 },
    { name: 'duration 1h30m', attrs: { duration: '1h30m' }, pick: (s) => s.durationSeconds, want: 5400 },
    { name: 'duration min', attrs: { duration: '60s' }, pick: (s) => s.durationSeconds, want: 60 },
    { name: 'duration max', attrs: { duration: '8760h' }, pick: (s) => s.durationSeconds, want: 31_536_000 },
    {
      name: 'renew-before',
      attrs: { duration: '24h', 'renew-before': '8h' },
      pick: (s) => s.renewBeforeSeconds,
      want: 28_800,
    },
    {
      name: 'renew-before with default duration',
      attrs: { 'renew-before': '167h59m59s' },
      pick: (s) => s.renewBeforeSeconds,
      want: 604_799,
    },
    {
      name: 'is-ca true',
      attrs: { 'is-ca': 'true' },
      pick: (s) => [s.isCA, s.usages.includes('cert sign')],
      want: [true, true],
    },
    {
      name: 'is-ca false',
      attrs: { 'is-ca': 'false' },
      pick: (s) => [s.isCA, s.usages.includes('cert sign')],
      want: [false, false],
    },
    {
      name: 'disable-auto-renew',
      attrs: { 'disable-auto-renew': 'true' },
      pick: (s) => s.disableAutoRenew,
      want: true,
    },
    {
      name: 'reuse-private-key',
      attrs: { 'reuse-private-key': 'true' },
      pick: (s) => s.reusePrivateKey,
      want: true,
    },
    {
      name: 'key-usages',
      attrs: { 'key-usages': 'Digital Signature, Client Auth' },
      pick: (s) => s.usages,
      want: ['digital signature', 'client auth'],
    },
    {
      name: 'key-usages RSA default',
      attrs: { 'key-algorithm': 'RSA' },
      pick: (s) => s.usages,
      want: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
    },
  ])('$name', ({ attrs, pick, want }) => {
    expect(pick(parse(attrs))).toEqual(want);
  });
});

type Reject = { name: string; attrs: Record<string, string>; field: string; phrase: string };

describe('parseVolumeAttributes rejections', () => {
  it.each<Reject>([
    {
      name: 'unknown attribute',
      attrs: { 'dns-name': 'a' },
      field: 'dns-name',
      phrase: "did you mean 'csi.k8s.cert-driver/dns-names'",
    },
    {
      name: 'issuer-name empty',
      attrs: { 'issuer-name': '' },
      field: 'issuer-name',
      phrase: 'must not be empty',
    },
    {
      name: 'issuer-name invalid',
      attrs: { 'issuer-name': 'CA_Issuer' },
      field: 'issuer-name',
      phrase: 'DNS-1123 subdomain',
    },
    {
      name: 'issuer-kind without name',
      attrs: { 'issuer-kind': 'ClusterIssuer' },
      field: 'issuer-kind',
      phrase: 'requires csi.k8s.cert-driver/issuer-name',
    },
    {
      name: 'issuer-group without name',
      attrs: { 'issuer-group': 'example.com' },
      field: 'issuer-group',
      phrase: 'requires csi.k8s.cert-driver/issuer-name',
    },
    {
      name: 'issuer-kind for cert-manager.io',
      attrs: { 'issuer-name': 'a', 'issuer-kind': 'clusterissuer' },
      field: 'issuer-kind',
      phrase: "must be Issuer or ClusterIssuer for group cert-manager.io, got 'clusterissuer'",
    },
    {
      name: 'issuer-kind explicit cert-manager.io',
      attrs: { 'issuer-name': 'a', 'issuer-group': 'cert-manager.io', 'issuer-kind': 'Vault' },
      field: 'issuer-kind',
      phrase: 'must be Issuer or ClusterIssuer',
    },
    {
      name: 'issuer-kind malformed',
      attrs: { 'issuer-name': 'a', 'issuer-group': 'example.com', 'issuer-kind': 'my-issuer' },
      field: 'issuer-kind',
      phrase: 'must be a Kubernetes kind',
    },
    {
      name: 'issuer-group empty',
      attrs: { 'issuer-name': 'a', 'issuer-group': '' },
      field: 'issuer-group',
      phrase: 'must not be empty',
    },
    {
      name: 'issuer-group malformed',
      attrs: { 'issuer-name': 'a', 'issuer-group': 'Example.com' },
      field: 'issuer-group',
      phrase: 'DNS-1123 subdomain',
    },
    {
      name: 'duration syntax',
      attrs: { duration: 'abc' },
      field: 'duration',
      phrase: "must be a Go duration like 24h or 1h30m, got 'abc'",
    },
    {
      name: 'duration plain seconds',
      attrs: { duration: '3600' },
      field: 'duration',
      phrase: 'a unit is required',
    },
    { name: 'duration days', attrs: { duration: '7d' }, field: 'duration', phrase: 'a day is 24h' },
    {
      name: 'duration too short',
      attrs: { duration: '59s' },
      field: 'duration',
      phrase: 'must be between 1m and 8760h',
    },
    {
      name: 'duration too long',
      attrs: { duration: '8761h' },
      field: 'duration',
      phrase: 'must be between 1m and 8760h',
    },
    {
      name: 'duration fraction',
      attrs: { duration: '90.5s' },
      field: 'duration',
      phrase: 'whole number of seconds',
    },
    {
      name: 'renew-before syntax',
      attrs: { 'renew-before': '1 day' },
      field: 'renew-before',
      phrase: 'must be a Go duration',
    },
    {
      name: 'renew-before zero',
      attrs: { 'renew-before': '0s' },
      field: 'renew-before',
      phrase: 'must be between 1s and',
    },
    {
      name: 'renew-before negative',
      attrs: { 'renew-before': '-1h' },
      field: 'renew-before',
      phrase: 'must be between 1s and',
    },
    {
      name: 'renew-before = duration',
      attrs: { duration: '24h', 'renew-before': '24h' },
      field: 'renew-before',
      phrase: "must be less than the duration (24h), got '24h'",
    },
    {
      name: 'renew-before > default duration',
      attrs: { 'renew-before': '200h' },
      field: 'renew-before',
      phrase: 'must be less than the duration (168h)',
    },
    {
      name: 'is-ca not strict',
      attrs: { 'is-ca': 'yes' },
      field: 'is-ca',
      phrase: 'must be "true" or "false", got \'yes\'',
    },
    {
      name: 'is-ca capitalised',
      attrs: { 'is-ca': 'True' },
      field: 'is-ca',
      phrase: 'must be "true" or "false"',
    },
    {
      name: 'disable-auto-renew',
      attrs: { 'disable-auto-renew': '1' },
      field: 'disable-auto-renew',
      phrase: 'must be "true" or "false"',
    },
    {
      name: 'reuse-private-key',
      attrs: { 'reuse-private-key': '' },
      field: 'reuse-private-key',
      phrase: 'must be "true" or "false"',
    },
    {
      name: 'key-usages unknown',
      attrs: { 'key-usages': 'server auth,sign' },
      field: 'key-usages',
      phrase: "unknown key usage 'sign'",
    },
  ])('$name', ({ attrs, field, phrase }) => {
    const e = catchInvalid(() => parse(attrs));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.code).toBe(Code.INVALID_ARGUMENT);
    expect(e.field).toBe(field.includes('/') ? field : P + field);
    expect(e.reason).toContain(phrase);
  });
});
