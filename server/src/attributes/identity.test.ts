import { describe, it, expect } from 'vitest';
import { POD, itParses, itRejects, parse } from './test-helpers.js';

const list = (n: number, f: (i: number) => string): string =>
  Array.from({ length: n }, (_, i) => f(i)).join(',');

describe('names: happy paths', () => {
  itParses([
    ['common-name', { 'common-name': 'my-app' }, (s) => s.subject.commonName, 'my-app'],
    [
      'common-name expanded',
      { 'common-name': '${POD_NAME}.${POD_NAMESPACE}' },
      (s) => s.subject.commonName,
      'web-0.shop',
    ],
    ['common-name alone keeps the default DNS SAN', { 'common-name': 'x' }, (s) => s.dnsNames, ['web-0']],
    [
      'dns-names lower-cased, wildcard allowed',
      { 'dns-names': 'A.Example.com, *.example.com' },
      (s) => s.dnsNames,
      ['a.example.com', '*.example.com'],
    ],
    [
      'dns-names expanded',
      { 'dns-names': '${POD_NAME}.${POD_NAMESPACE}.svc,${SERVICE_ACCOUNT_NAME}.sa' },
      (s) => s.dnsNames,
      ['web-0.shop.svc', 'web-sa.sa'],
    ],
    [
      'dns-names keep the default CN',
      { 'dns-names': 'a.example.com' },
      (s) => s.subject.commonName,
      'web-0.shop.svc.cluster.local',
    ],
    [
      'ip-sans replace the default DNS SAN',
      { 'ip-sans': '192.0.2.1, 2001:DB8::1' },
      (s) => [s.dnsNames, s.ipAddresses],
      [[], ['192.0.2.1', '2001:db8::1']],
    ],
    [
      'uri-sans expanded',
      { 'uri-sans': 'spiffe://cluster.local/ns/${POD_NAMESPACE}/sa/${SERVICE_ACCOUNT_NAME}' },
      (s) => [s.dnsNames, s.uris],
      [[], ['spiffe://cluster.local/ns/shop/sa/web-sa']],
    ],
    [
      'email-sans expanded',
      { 'email-sans': '${POD_NAME}@example.com' },
      (s) => [s.dnsNames, s.emailAddresses],
      [[], ['web-0@example.com']],
    ],
    ['100 SANs', { 'dns-names': list(100, (i) => `h${i}.example.com`) }, (s) => s.dnsNames.length, 100],
    [
      'subject lists',
      {
        organizations: 'Acme Corp, Example Ltd',
        'organizational-units': 'payments,${POD_NAMESPACE}',
        countries: 'de, US',
        provinces: 'Bavaria',
        localities: 'Munich',
        'street-addresses': '1 Main Street',
        'postal-codes': '80331',
        'serial-number': '${POD_UID}',
      },
      (s) => s.subject,
      {
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
    ],
    [
      '20 organizations',
      { organizations: list(20, (i) => `O${i}`) },
      (s) => s.subject.organizations.length,
      20,
    ],
  ]);

  it('uses the cluster domain in the default CN', () => {
    expect(parse({}, { clusterDomain: 'example.org' }).subject.commonName).toBe('web-0.shop.svc.example.org');
  });

  it('leaves out a default CN longer than 64 characters', () => {
    const spec = parse({}, { pod: { ...POD, name: 'a'.repeat(50) } });
    expect(spec.subject.commonName).toBeUndefined();
    expect(spec.dnsNames).toEqual(['a'.repeat(50)]);
  });
});

describe('names: rejections', () => {
  itRejects([
    ['empty common-name', { 'common-name': '' }, 'must not be empty'],
    ['long common-name', { 'common-name': 'a'.repeat(65) }, 'longer than 64'],
    ['common-name too long after expansion', { 'common-name': '${POD_UID}.${POD_UID}' }, 'longer than 64'],
    ['common-name control char', { 'common-name': 'a\nb' }, 'control character'],
    ['common-name unknown variable', { 'common-name': '${NODE_NAME}' }, "unknown variable '${NODE_NAME}'"],
    ['empty dns-names', { 'dns-names': '' }, 'must not be empty'],
    ['dns-names empty entry', { 'dns-names': 'a.com,,b.com' }, 'empty entry'],
    ['dns-names invalid', { 'dns-names': 'a_b.com' }, 'not a valid DNS name'],
    ['dns-names duplicate', { 'dns-names': 'a.com,A.com' }, "lists 'a.com' more than once"],
    ['dns-names too many', { 'dns-names': list(101, (i) => `h${i}.com`) }, 'at most 100 entries, got 101'],
    ['dns-names bare variable', { 'dns-names': '$POD_NAME.svc' }, "write '${POD_NAME}'"],
    ['ip-sans invalid', { 'ip-sans': '192.0.2' }, 'not an IPv4 or IPv6 address'],
    ['ip-sans not expanded', { 'ip-sans': '${POD_NAME}' }, 'not an IPv4 or IPv6 address'],
    [
      'ip-sans duplicate',
      { 'ip-sans': '2001:db8::1,2001:DB8:0:0::1' },
      "lists '2001:db8:0:0::1' more than once",
    ],
    ['uri-sans relative', { 'uri-sans': 'example.com/x' }, 'absolute URI'],
    ['uri-sans duplicate', { 'uri-sans': 'spiffe://a/b,spiffe://a/b' }, 'more than once', 'uri-sans'],
    ['uri-sans variable', { 'uri-sans': 'spiffe://td/${POD_IP}' }, "unknown variable '${POD_IP}'"],
    ['email-sans invalid', { 'email-sans': 'nobody' }, 'not an email address'],
    ['countries', { countries: 'DE,USA' }, "'USA' is not a two-letter"],
    ['organizations entry too long', { organizations: 'a'.repeat(65) }, 'longer than 64'],
    ['organizations too many', { organizations: list(21, (i) => `O${i}`) }, 'at most 20 entries'],
    [
      'organizational-units variable',
      { 'organizational-units': '${NAMESPACE}' },
      "unknown variable '${NAMESPACE}'",
    ],
    ['provinces too long', { provinces: 'a'.repeat(129) }, 'longer than 128'],
    ['localities empty', { localities: '' }, 'must not be empty'],
    ['street-addresses control char', { 'street-addresses': 'a\tb' }, 'control character'],
    ['postal-codes too long', { 'postal-codes': '1'.repeat(41) }, 'longer than 40'],
    ['serial-number empty', { 'serial-number': '' }, 'must not be empty'],
    ['serial-number too long', { 'serial-number': 'x'.repeat(65) }, 'longer than 64'],
  ]);
});
