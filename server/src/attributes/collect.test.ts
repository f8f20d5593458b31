import { describe, it, expect } from 'vitest';
import { ATTRIBUTE_NAMES } from './attribute-table.js';
import { closestName, collectAttributes, editDistance } from './collect.js';
import { P, catchInvalid, parse } from './test-helpers.js';

const OURS = 'csi.k8s.cert-driver/';
const CM = 'csi.cert-manager.io/';

describe('collectAttributes', () => {
  it.each([OURS, CM])('reads every attribute under %s', (prefix) => {
    const ctx = Object.fromEntries(ATTRIBUTE_NAMES.map((n) => [prefix + n, `v-${n}`]));
    const raw = collectAttributes(ctx);
    expect(raw.size).toBe(ATTRIBUTE_NAMES.length);
    expect(raw.get('duration')).toEqual({ key: `${prefix}duration`, value: 'v-duration' });
  });

  it('mixes prefixes and ignores other keys', () => {
    const raw = collectAttributes({
      [`${OURS}duration`]: '24h',
      [`${CM}dns-names`]: 'a.example.com',
      'csi.storage.k8s.io/pod.name': 'web-0',
      'csi.storage.k8s.io/serviceAccount.tokens': '{}',
      'example.com/anything': 'x',
      duration: 'ignored',
    });
    expect([...raw.entries()]).toEqual([
      ['dns-names', { key: `${CM}dns-names`, value: 'a.example.com' }],
      ['duration', { key: `${OURS}duration`, value: '24h' }],
    ]);
  });

  it.each([
    { key: `${OURS}dns-name`, phrase: `did you mean '${OURS}dns-names'?` },
    { key: `${CM}isuer-name`, phrase: `did you mean '${CM}issuer-name'?` },
    { key: `${OURS}Duration`, phrase: `did you mean '${OURS}duration'?` },
    { key: `${OURS}keysize`, phrase: `did you mean '${OURS}key-size'?` },
    { key: `${OURS}literal-subject`, phrase: 'is not a known attribute' },
    { key: OURS, phrase: 'is not a known attribute' },
  ])('rejects unknown $key', ({ key, phrase }) => {
    const e = catchInvalid(() => collectAttributes({ [key]: 'x' }));
    expect(e.field).toBe(key);
    expect(e.reason).toContain(phrase);
  });

  it('gives no suggestion when nothing is close', () => {
    expect(catchInvalid(() => collectAttributes({ [`${OURS}literal-subject`]: 'x' })).reason).not.toContain(
      'did you mean',
    );
  });

  it('rejects the same attribute under both prefixes', () => {
    const e = catchInvalid(() => collectAttributes({ [`${OURS}duration`]: '1h', [`${CM}duration`]: '2h' }));
    expect(e.field).toBe(`${OURS}duration`);
    expect(e.reason).toContain(`is also given as '${CM}duration'; set it under one prefix only`);
  });
});

describe('closestName / editDistance', () => {
  it.each([
    { a: '', b: '', want: 0 },
    { a: 'abc', b: 'abc', want: 0 },
    { a: 'abc', b: 'abd', want: 1 },
    { a: 'abc', b: 'ab', want: 1 },
    { a: 'kitten', b: 'sitting', want: 3 },
  ])('editDistance($a, $b) = $want', ({ a, b, want }) => {
    expect(editDistance(a, b)).toBe(want);
  });

  it.each([
    { name: 'common-names', want: 'common-name' },
    { name: 'ca-files', want: 'ca-file' },
    { name: 'pkcs12-filenam', want: 'pkcs12-filename' },
    { name: 'organisation', want: 'organizations' },
    { name: 'subject', want: undefined },
  ])('closestName($name) = $want', ({ name, want }) => {
    expect(closestName(name)).toBe(want);
  });
});

describe('parseVolumeAttributes prefixes', () => {
  it('reads csi.cert-manager.io/ keys like ours', () => {
    const ours = parse({
      'issuer-name': 'ca',
      duration: '24h',
      'dns-names': 'a.example.com',
      'key-algorithm': 'RSA',
    });
    const theirs = parse({
      [`${CM}issuer-name`]: 'ca',
      [`${CM}duration`]: '24h',
      [`${CM}dns-names`]: 'a.example.com',
      [`${CM}key-algorithm`]: 'RSA',
    });
    expect(theirs).toEqual(ours);
  });

  it('names the key as written under the cert-manager prefix', () => {
    const e = catchInvalid(() => parse({ [`${CM}duration`]: 'soon' }));
    expect(e.field).toBe(`${CM}duration`);
  });

  it('rejects an attribute under both prefixes', () => {
    const e = catchInvalid(() => parse({ [`${CM}is-ca`]: 'true', 'is-ca': 'true' }));
    expect(e.field).toBe(`${P}is-ca`);
    expect(e.reason).toContain(`also given as '${CM}is-ca'`);
  });

  it('rejects an unknown cert-manager key', () => {
    const e = catchInvalid(() => parse({ [`${CM}literal-subject`]: 'CN=x' }));
    expect(e.field).toBe(`${CM}literal-subject`);
    expect(e.reason).toContain('is not a known attribute');
  });
});
