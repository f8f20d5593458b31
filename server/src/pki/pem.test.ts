import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import { certificatePems, firstPemBlock, joinPem, splitCertificates, splitPem, toPem } from './pem.js';

const der = (n: number): Buffer => Buffer.alloc(n, n);
const cert = (n: number): string => toPem(der(n), 'CERTIFICATE');

describe('pem helpers', () => {
  it('wraps at 64 characters and round-trips', () => {
    const pem = toPem(der(100), 'CERTIFICATE');
    expect(pem.split('\n').map((l) => l.length)).toEqual([27, 64, 64, 8, 25, 0]);
    expect(splitPem(pem)).toEqual([{ type: 'CERTIFICATE', der: der(100) }]);
  });

  it('splits a bundle with comments, CRLF and other blocks', () => {
    const bundle = `# leaf\n${cert(10)}subject=CN=x\r\n${toPem(der(5), 'PRIVATE KEY').replace(/\n/g, '\r\n')}${cert(20)}`;
    expect(splitPem(bundle).map((b) => b.type)).toEqual(['CERTIFICATE', 'PRIVATE KEY', 'CERTIFICATE']);
    expect(splitCertificates(bundle)).toEqual([der(10), der(20)]);
    expect(certificatePems(bundle)).toEqual([cert(10), cert(20)]);
    expect(firstPemBlock(bundle, 'PRIVATE KEY')).toEqual(der(5));
  });

  it.each([
    { name: 'no block of the type', text: cert(3), type: 'CERTIFICATE REQUEST' },
    {
      name: 'a broken body',
      text: '-----BEGIN CERTIFICATE-----\nab$c\n-----END CERTIFICATE-----\n',
      type: 'CERTIFICATE',
    },
  ])('rejects $name naming the field', ({ text, type }) => {
    expect(() => firstPemBlock(text, type, 'ca_bundle')).toThrow(InvalidArgumentError);
    try {
      firstPemBlock(text, type, 'ca_bundle');
    } catch (e) {
      expect((e as InvalidArgumentError).field).toBe('ca_bundle');
    }
  });

  it('joins with exactly one newline each and drops empty parts', () => {
    expect(joinPem([cert(1), '', `${cert(2)}\n\n`])).toBe(`${cert(1)}${cert(2)}`);
    expect(joinPem([])).toBe('');
  });
});
