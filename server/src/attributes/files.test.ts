import { describe, it, expect } from 'vitest';
import type { CertificateSpec } from './certificate-spec.js';
import { P, parse, catchInvalid } from './test-helpers.js';

const CM = 'csi.cert-manager.io/';

type Case = {
  name: string;
  attrs: Record<string, string>;
  volumeMountGroup?: string;
  pick: (s: CertificateSpec) => unknown;
  want: unknown;
};

describe('files and ownership: happy paths', () => {
  it.each<Case>([
    {
      name: 'custom file names',
      attrs: { 'certificate-file': 'cert.pem', 'privatekey-file': 'key.pem', 'ca-file': 'ca.pem' },
      pick: (s) => s.files,
      want: { certificate: 'cert.pem', privateKey: 'key.pem', ca: 'ca.pem' },
    },
    { name: 'ca-file "" disables it', attrs: { 'ca-file': '' }, pick: (s) => s.files.ca, want: undefined },
    {
      name: 'file names are not expanded',
      attrs: { 'certificate-file': '${POD_NAME}.crt' },
      pick: (s) => s.files.certificate,
      want: '${POD_NAME}.crt',
    },
    {
      name: 'pkcs12-enable defaults',
      attrs: { 'pkcs12-enable': 'true' },
      pick: (s) => [s.files.pkcs12, s.pkcs12Password],
      want: ['keystore.p12', ''],
    },
    {
      name: 'pkcs12 name and password',
      attrs: { 'pkcs12-enable': 'true', 'pkcs12-filename': 'app.pfx', 'pkcs12-password': 'changeit' },
      pick: (s) => [s.files.pkcs12, s.pkcs12Password],
      want: ['app.pfx', 'changeit'],
    },
    {
      name: 'pkcs12-enable false',
      attrs: { 'pkcs12-enable': 'false' },
      pick: (s) => [s.files.pkcs12, s.pkcs12Password],
      want: [undefined, undefined],
    },
    { name: 'fs-group', attrs: { 'fs-group': '2000' }, pick: (s) => s.fsGroup, want: 2000 },
    { name: 'fs-group 0', attrs: { 'fs-group': '0' }, pick: (s) => s.fsGroup, want: 0 },
    { name: 'volume_mount_group', attrs: {}, volumeMountGroup: '3000', pick: (s) => s.fsGroup, want: 3000 },
    {
      name: 'fs-group overrides volume_mount_group',
      attrs: { 'fs-group': '2000' },
      volumeMountGroup: 'not-used',
      pick: (s) => s.fsGroup,
      want: 2000,
    },
    {
      name: 'empty volume_mount_group',
      attrs: {},
      volumeMountGroup: '',
      pick: (s) => s.fsGroup,
      want: undefined,
    },
  ])('$name', ({ attrs, volumeMountGroup, pick, want }) => {
    expect(pick(parse(attrs, { volumeMountGroup }))).toEqual(want);
  });

  it('asks the platform about every file name', () => {
    const seen: string[] = [];
    parse({ 'pkcs12-enable': 'true' }, { checkFileName: (n) => void seen.push(n) });
    expect(seen).toEqual(['tls.crt', 'tls.key', 'ca.crt', 'keystore.p12']);
  });
});

type Reject = { name: string; attrs: Record<string, string>; field: string; phrase: string };

describe('files and ownership: rejections', () => {
  it.each<Reject>([
    {
      name: 'empty certificate-file',
      attrs: { 'certificate-file': '' },
      field: 'certificate-file',
      phrase: 'must not be empty',
    },
    {
      name: 'subdirectory',
      attrs: { 'certificate-file': 'bar/foo.crt' },
      field: 'certificate-file',
      phrase: "without '/'",
    },
    {
      name: 'backslash',
      attrs: { 'pkcs12-enable': 'true', 'pkcs12-filename': 'a\\b' },
      field: 'pkcs12-filename',
      phrase: "without '/'",
    },
    {
      name: 'reserved ..data',
      attrs: { 'privatekey-file': '..data' },
      field: 'privatekey-file',
      phrase: 'reserved',
    },
    { name: 'dot', attrs: { 'ca-file': '.' }, field: 'ca-file', phrase: "must not be '.'" },
    { name: 'NUL', attrs: { 'ca-file': 'a\0b' }, field: 'ca-file', phrase: 'NUL' },
    {
      name: 'too long',
      attrs: { 'ca-file': 'a'.repeat(256) },
      field: 'ca-file',
      phrase: 'at most 255 bytes',
    },
    {
      name: 'explicit name collides with a default',
      attrs: { 'certificate-file': 'tls.key' },
      field: 'certificate-file',
      phrase: `file name 'tls.key' is also used by ${P}privatekey-file (default)`,
    },
    {
      name: 'collision ignoring case',
      attrs: { 'privatekey-file': 'TLS.CRT' },
      field: 'privatekey-file',
      phrase: `is also used by ${P}certificate-file (default)`,
    },
    {
      name: 'two explicit names collide',
      attrs: { 'certificate-file': 'a.pem', 'privatekey-file': 'a.pem' },
      field: 'privatekey-file',
      phrase: `is also used by ${P}certificate-file;`,
    },
    {
      name: 'ca-file collides',
      attrs: { 'ca-file': 'tls.crt' },
      field: 'ca-file',
      phrase: `is also used by ${P}certificate-file (default)`,
    },
    {
      name: 'pkcs12-filename collides',
      attrs: { 'pkcs12-enable': 'true', 'pkcs12-filename': 'ca.crt' },
      field: 'pkcs12-filename',
      phrase: `is also used by ${P}ca-file (default)`,
    },
    {
      name: 'collision under the cert-manager prefix',
      attrs: { [`${CM}certificate-file`]: 'cert.pem', [`${CM}privatekey-file`]: 'cert.pem' },
      field: `${CM}privatekey-file`,
      phrase: `is also used by ${CM}certificate-file`,
    },
    {
      name: 'pkcs12-filename without enable',
      attrs: { 'pkcs12-filename': 'a.p12' },
      field: 'pkcs12-filename',
      phrase: `only allowed with ${P}pkcs12-enable: "true"`,
    },
    {
      name: 'pkcs12-password with enable false',
      attrs: { 'pkcs12-enable': 'false', 'pkcs12-password': 'x' },
      field: 'pkcs12-password',
      phrase: 'only allowed with',
    },
    {
      name: 'pkcs12-enable not bool',
      attrs: { 'pkcs12-enable': 'on' },
      field: 'pkcs12-enable',
      phrase: 'must be "true" or "false"',
    },
    {
      name: 'fs-group negative',
      attrs: { 'fs-group': '-1' },
      field: 'fs-group',
      phrase: 'integer group ID from 0 to 2147483647',
    },
    {
      name: 'fs-group too big',
      attrs: { 'fs-group': '2147483648' },
      field: 'fs-group',
      phrase: 'integer group ID',
    },
    {
      name: 'fs-group not a number',
      attrs: { 'fs-group': 'staff' },
      field: 'fs-group',
      phrase: "got 'staff'",
    },
  ])('$name', ({ attrs, field, phrase }) => {
    const e = catchInvalid(() => parse(attrs));
    expect(e.field).toBe(field.includes('/') ? field : P + field);
    expect(e.reason).toContain(phrase);
  });

  it('reports the platform rule with the attribute key', () => {
    const e = catchInvalid(() =>
      parse(
        { 'certificate-file': 'con.crt' },
        { checkFileName: (n) => (n.startsWith('con') ? 'reserved on Windows' : undefined) },
      ),
    );
    expect(e.field).toBe(`${P}certificate-file`);
    expect(e.reason).toBe('reserved on Windows');
  });

  it.each(['abc', '-5', '1.5'])('rejects volume_mount_group %s', (volumeMountGroup) => {
    const e = catchInvalid(() => parse({}, { volumeMountGroup }));
    expect(e.field).toBe('volume_mount_group');
    expect(e.reason).toContain('integer group ID');
  });
});
