import { describe, it, expect } from 'vitest';
import type { CertificateSpec } from './certificate-spec.js';
import { P, POD, parse, catchInvalid } from './test-helpers.js';

type Case = {
  name: string;
  attrs: Record<string, string>;
  pick: (s: CertificateSpec) => unknown;
  want: unknown;
};

const list = (n: number, f: (i: number) => string): string =>
  Array.from({ length: n }, (_, i) => f(i)).join(',');

describe('names: happy paths', () => {
  it.each<Case>([
    {
      name: 'common-name',
      attrs: { 'common-name': 'my-app' },
      pick: (s) => s.subject.commonName,
      want: 'my-app',
    },
    {
      name: 'common-name expanded',
      attrs: { 'common-name': '${POD_NAME}.${POD_NAMESPACE}' },
      pick: (s) => s.subject.commonName,
      want: 'web-0.shop',
    },
    {
      name: 'common-name alone keeps the default DNS SAN',
      attrs: { 'common-name': 'x' },
      pick: (s) => s.dnsNames,
      want: ['web-0'],
    },
    {
      name: 'dns-names lower-cased, wildcard allowed',
      attrs: { 'dns-names': 'A.Example.com, *.example.com' },
      pick: (s) => s.dnsNames,
      want: ['a.example.com', '*.example.com'],
    },
    {
      name: 'dns-names expanded',
      attrs: { 'dns-names': '${POD_NAME}.${POD_NAMESPACE}.svc,${SERVICE_ACCOUNT_NAME}.sa' },
      pick: (s) => s.dnsNames,
      want: ['web-0.shop.svc', 'web-sa.sa'],
    },
    {
      name: 'dns-names keep the default CN',
      attrs: { 'dns-names': 'a.example.com' },
      pick: (s) => s.subject.commonName,
      want: 'web-0.shop.svc.cluster.local',
    },
    {
      name: 'ip-sans replace the default DNS SAN',
      attrs: { 'ip-sans': '192.0.2.1, 2001:DB8::1' },
      pick: (s) => [s.dnsNames, s.ipAddresses],
      want: [[], ['192.0.2.1', '2001:db8::1']],
    },
    {
      name: 'uri-sans expanded',
      attrs: { 'uri-sans': 'spiffe://cluster.local/ns/${POD_NAMESPACE}/sa/${SERVICE_ACCOUNT_NAME}' },
      pick: (s) => [s.dnsNames, s.uris],
      want: [[], ['spiffe://cluster.local/ns/shop/sa/web-sa']],
    },
    {
      name: 'email-sans expanded',
      attrs: { 'email-sans': '${POD_NAME}@example.com' },
      pick: (s) => [s.dnsNames, s.emailAddresses],
      want: [[], ['web-0@example.com']],
    },
    {
      name: '100 SANs',
      attrs: { 'dns-names': list(100, (i) => `h${i}.example.com`) },
      pick: (s) => s.dnsNames.length,
      want: 100,
    },
    {
      name: 'subject lists',
      attrs: {
        organizations: 'Acme Corp, Example Ltd',
        'organizational-units': 'payments,${POD_NAMESPACE}',
        countries: 'de, US',
        provinces: 'Bavaria',
        localities: 'Munich',
        'street-addresses': '1 Main Street',
        'postal-codes': '80331',
        'serial-number': '${POD_UID}',
      },
      pick: (s) => s.subject,
      want: {
        commonName: 'web-0.shop.svc.cluster.local',
        organizations: ['Acme Corp', 'Example Ltd'],
        organizationalUnits: ['payments', 'shop'],
        countries: ['DE', 'US'],
        provinces: ['Bavaria'],
        localities: ['Munich'],
        streetAddresses: ['1 Main Street'],
        postalCodes: ['80331'],
        serialNumber: POD.uid,
      },
    },
    {
      name: '20 organizations',
      attrs: { organizations: list(20, (i) => `O${i}`) },
      pick: (s) => s.subject.organizations.length,
      want: 20,
    },
  ])('$name', ({ attrs, pick, want }) => {
    expect(pick(parse(attrs))).toEqual(want);
  });

  it('uses the cluster domain in the default CN', () => {
    expect(parse({}, { clusterDomain: 'example.org' }).subject.commonName).toBe('web-0.shop.svc.example.org');
  });

  it('leaves out a default CN longer than 64 characters', () => {
    const spec = parse({}, { pod: { ...POD, name: 'a'.repeat(50) } });
    expect(spec.subject.commonName).toBeUndefined();
    expect(spec.dnsNames).toEqual(['a'.repeat(50)]);
  });
});

type Reject = { name: string; attrs: Record<string, string>; field: string; phrase: string };

describe('names: rejections', () => {
  it.each<Reject>([
    {
      name: 'empty common-name',
      attrs: { 'common-name': '' },
      field: 'common-name',
      phrase: 'must not be empty',
    },
    {
      name: 'long common-name',
      attrs: { 'common-name': 'a'.repeat(65) },
      field: 'common-name',
      phrase: 'longer than 64',
    },
    {
      name: 'common-name too long after expansion',
      attrs: { 'common-name': '${POD_UID}.${POD_UID}' },
      field: 'common-name',
      phrase: 'longer than 64',
    },
    {
      name: 'common-name control char',
      attrs: { 'common-name': 'a\nb' },
      field: 'common-name',
      phrase: 'control character',
    },
    {
      name: 'common-name unknown variable',
      attrs: { 'common-name': '${NODE_NAME}' },
      field: 'common-name',
      phrase: "unknown variable '${NODE_NAME}'",
    },
    { name: 'empty dns-names', attrs: { 'dns-names': '' }, field: 'dns-names', phrase: 'must not be empty' },
    {
      name: 'dns-names empty entry',
      attrs: { 'dns-names': 'a.com,,b.com' },
      field: 'dns-names',
      phrase: 'empty entry',
    },
    {
      name: 'dns-names invalid',
      attrs: { 'dns-names': 'a_b.com' },
      field: 'dns-names',
      phrase: 'not a valid DNS name',
    },
    {
      name: 'dns-names duplicate',
      attrs: { 'dns-names': 'a.com,A.com' },
      field: 'dns-names',
      phrase: "lists 'a.com' more than once",
    },
    {
      name: 'dns-names too many',
      attrs: { 'dns-names': list(101, (i) => `h${i}.com`) },
      field: 'dns-names',
      phrase: 'at most 100 entries, got 101',
    },
    {
      name: 'dns-names bare variable',
      attrs: { 'dns-names': '$POD_NAME.svc' },
      field: 'dns-names',
      phrase: "write '${POD_NAME}'",
    },
    {
      name: 'ip-sans invalid',
      attrs: { 'ip-sans': '192.0.2' },
      field: 'ip-sans',
      phrase: 'not an IPv4 or IPv6 address',
    },
    {
      name: 'ip-sans not expanded',
      attrs: { 'ip-sans': '${POD_NAME}' },
      field: 'ip-sans',
      phrase: 'not an IPv4 or IPv6 address',
    },
    {
      name: 'ip-sans duplicate',
      attrs: { 'ip-sans': '2001:db8::1,2001:DB8:0:0::1' },
      field: 'ip-sans',
      phrase: "lists '2001:db8:0:0::1' more than once",
    },
    {
      name: 'uri-sans relative',
      attrs: { 'uri-sans': 'example.com/x' },
      field: 'uri-sans',
      phrase: 'absolute URI',
    },
    {
      name: 'uri-sans duplicate',
      attrs: { 'uri-sans': 'spiffe://a/b,spiffe://a/b' },
      field: 'uri-sans',
      phrase: 'more than once',
    },
    {
      name: 'uri-sans variable',
      attrs: { 'uri-sans': 'spiffe://td/${POD_IP}' },
      field: 'uri-sans',
      phrase: "unknown variable '${POD_IP}'",
    },
    {
      name: 'email-sans invalid',
      attrs: { 'email-sans': 'nobody' },
      field: 'email-sans',
      phrase: 'not an email address',
    },
    {
      name: 'countries',
      attrs: { countries: 'DE,USA' },
      field: 'countries',
      phrase: "'USA' is not a two-letter",
    },
    {
      name: 'organizations entry too long',
      attrs: { organizations: 'a'.repeat(65) },
      field: 'organizations',
      phrase: 'longer than 64',
    },
    {
      name: 'organizations too many',
      attrs: { organizations: list(21, (i) => `O${i}`) },
      field: 'organizations',
      phrase: 'at most 20 entries',
    },
    {
      name: 'organizational-units variable',
      attrs: { 'organizational-units': '${NAMESPACE}' },
      field: 'organizational-units',
      phrase: "unknown variable '${NAMESPACE}'",
    },
    {
      name: 'provinces too long',
      attrs: { provinces: 'a'.repeat(129) },
      field: 'provinces',
      phrase: 'longer than 128',
    },
    { name: 'localities empty', attrs: { localities: '' }, field: 'localities', phrase: 'must not be empty' },
    {
      name: 'street-addresses control char',
      attrs: { 'street-addresses': 'a\tb' },
      field: 'street-addresses',
      phrase: 'control character',
    },
    {
      name: 'postal-codes too long',
      attrs: { 'postal-codes': '1'.repeat(41) },
      field: 'postal-codes',
      phrase: 'longer than 40',
    },
    {
      name: 'serial-number empty',
      attrs: { 'serial-number': '' },
      field: 'serial-number',
      phrase: 'must not be empty',
    },
    {
      name: 'serial-number too long',
      attrs: { 'serial-number': 'x'.repeat(65) },
      field: 'serial-number',
      phrase: 'longer than 64',
    },
  ])('$name', ({ attrs, field, phrase }) => {
    const e = catchInvalid(() => parse(attrs));
    expect(e.field).toBe(P + field);
    expect(e.reason).toContain(phrase);
  });
});
