import { describe, it, expect } from 'vitest';
import {
  canonicalIp,
  checkDns1123Label,
  checkDns1123Subdomain,
  checkDnsName,
  checkEmail,
  checkFileName,
  checkSubjectValue,
  checkUri,
  parseBool,
  parseGroupId,
  parseList,
} from './validators.js';
import { catchInvalid } from './test-helpers.js';

const long = (n: number): string => 'a'.repeat(n);

describe('Kubernetes names', () => {
  it.each([
    { value: 'default', label: true, subdomain: true },
    { value: 'a', label: true, subdomain: true },
    { value: 'web-0', label: true, subdomain: true },
    { value: 'web.shop', label: false, subdomain: true },
    { value: long(63), label: true, subdomain: true },
    { value: long(64), label: false, subdomain: true },
    { value: `${long(63)}.${long(63)}.${long(63)}.${long(61)}`, label: false, subdomain: true },
    { value: `${long(63)}.${long(63)}.${long(63)}.${long(62)}`, label: false, subdomain: false },
    { value: 'Web', label: false, subdomain: false },
    { value: '-web', label: false, subdomain: false },
    { value: 'web-', label: false, subdomain: false },
    { value: 'web..shop', label: false, subdomain: false },
    { value: 'web_0', label: false, subdomain: false },
    { value: '', label: false, subdomain: false },
  ])('$value', ({ value, label, subdomain }) => {
    expect(checkDns1123Label(value) === undefined).toBe(label);
    expect(checkDns1123Subdomain(value) === undefined).toBe(subdomain);
  });

  it('explains the rule', () => {
    expect(checkDns1123Label('Web')).toContain('must be a DNS-1123 label');
    expect(checkDns1123Subdomain('Web')).toContain('must be a DNS-1123 subdomain');
    expect(checkDns1123Label(long(64))).toContain('at most 63 characters');
  });
});

describe('checkDnsName', () => {
  it.each(['web-0', 'web.shop.svc.cluster.local', '*.example.com', 'xn--bcher-kva.example', '1.2.3.4'])(
    'accepts %s',
    (name) => expect(checkDnsName(name)).toBeUndefined(),
  );

  it.each(['*', 'a.*.example.com', '*example.com', 'example.com.', 'a_b.example.com', '-a.example.com'])(
    'rejects %s as not a valid DNS name',
    (name) => expect(checkDnsName(name)).toContain('not a valid DNS name'),
  );

  it.each([
    { name: `${long(64)}.com`, phrase: 'label longer than 63' },
    { name: `${long(60)}.`.repeat(5) + 'com', phrase: 'longer than 253' },
  ])('rejects $name', ({ name, phrase }) => {
    expect(checkDnsName(name)).toContain(phrase);
  });
});

describe('canonicalIp', () => {
  it.each([
    { ip: '192.0.2.1', want: '192.0.2.1' },
    { ip: '2001:DB8:0:0::1', want: '2001:db8::1' },
    { ip: '::1', want: '::1' },
    { ip: '192.0.2', want: undefined },
    { ip: '01.2.3.4', want: undefined },
    { ip: 'fe80::1%eth0', want: undefined },
    { ip: 'example.com', want: undefined },
  ])('$ip', ({ ip, want }) => {
    expect(canonicalIp(ip)).toBe(want);
  });
});

describe('checkUri', () => {
  it.each([
    'spiffe://cluster.local/ns/shop/sa/web',
    'https://example.com/x?y=1',
    'urn:uuid:1234',
    'mailto:a@b.c',
  ])('accepts %s', (uri) => expect(checkUri(uri)).toBeUndefined());

  it.each(['example.com/path', '/relative', 'spiffe://a b', 'http://', 'spiffe:', '1http://x', 'a\tb:c'])(
    'rejects %s',
    (uri) => expect(checkUri(uri)).toContain('is not an absolute URI with a scheme'),
  );
});

describe('checkEmail', () => {
  it.each(['a@example.com', 'first.last+tag@Example.COM', 'web-0@shop.svc'])('accepts %s', (email) =>
    expect(checkEmail(email)).toBeUndefined(),
  );

  it.each([
    'example.com',
    '@example.com',
    'a@',
    'a@*.example.com',
    'a b@example.com',
    'a..b@x.com',
    'a@-x.com',
  ])('rejects %s', (email) => expect(checkEmail(email)).toContain('is not an email address'));
});

describe('checkFileName', () => {
  it.each(['tls.crt', 'cert.pem', '.hidden', 'a..b', 'ключ.pem', long(255)])('accepts %s', (name) =>
    expect(checkFileName(name)).toBeUndefined(),
  );

  it.each([
    { phrase: 'must not be empty', names: [''] },
    { phrase: "without '/'", names: ['bar/foo.crt', 'bar\\foo.crt'] },
    { phrase: "start with '..'", names: ['.', '..'] },
    { phrase: 'reserved', names: ['..data'] },
    { phrase: 'NUL', names: ['a\0b'] },
    { phrase: 'at most 255 bytes', names: [long(256)] },
    { phrase: 'at most 255 bytes, got 256', names: ['ä'.repeat(128)] },
  ])('rejects with "$phrase": $names', ({ phrase, names }) => {
    for (const name of names) expect(checkFileName(name), name).toContain(phrase);
  });
});

describe('checkSubjectValue', () => {
  it('limits length and control characters', () => {
    expect(checkSubjectValue('Acme, Inc', 64)).toBeUndefined();
    expect(checkSubjectValue(long(65), 64)).toContain('longer than 64');
    expect(checkSubjectValue('a\nb', 64)).toContain('control character');
  });
});

describe('parsers', () => {
  const F = 'csi.k8s.cert-driver/x';

  it.each([
    { value: 'true', want: true },
    { value: 'false', want: false },
  ])('parseBool $value', ({ value, want }) => expect(parseBool(F, value)).toBe(want));

  it.each(['True', 'yes', '1', '', ' true'])('parseBool rejects "%s"', (value) => {
    const e = catchInvalid(() => parseBool(F, value));
    expect(e.field).toBe(F);
    expect(e.reason).toContain('must be "true" or "false"');
  });

  it.each([
    { value: '0', want: 0 },
    { value: '2000', want: 2000 },
    { value: '2147483647', want: 2147483647 },
  ])('parseGroupId $value', ({ value, want }) => expect(parseGroupId(F, value)).toBe(want));

  it.each(['-1', '2147483648', '1.5', '1e3', '', ' 1', '99999999999'])(
    'parseGroupId rejects "%s"',
    (value) => {
      expect(catchInvalid(() => parseGroupId(F, value)).reason).toContain(
        'must be an integer group ID from 0 to',
      );
    },
  );

  it.each([
    { value: 'a', want: ['a'] },
    { value: ' a , b ', want: ['a', 'b'] },
  ])('parseList "$value"', ({ value, want }) => expect(parseList(F, value)).toEqual(want));

  it.each([
    { value: '', phrase: 'must not be empty' },
    { value: '  ', phrase: 'must not be empty' },
    { value: 'a,,b', phrase: 'empty entry' },
    { value: 'a,', phrase: 'empty entry' },
  ])('parseList rejects "$value"', ({ value, phrase }) => {
    expect(catchInvalid(() => parseList(F, value)).reason).toContain(phrase);
  });
});
