import { describe, it, expect } from 'vitest';
import type { CertificateSpec } from './certificate-spec.js';
import { itRejects, P, parse, catchInvalid } from './test-helpers.js';

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

describe('files and ownership: rejections', () => {
  itRejects([
    ['empty certificate-file', { 'certificate-file': '' }, 'must not be empty'],
    ['subdirectory', { 'certificate-file': 'bar/foo.crt' }, "without '/'"],
    ['backslash', { 'pkcs12-enable': 'true', 'pkcs12-filename': 'a\\b' }, "without '/'"],
    ['reserved ..data', { 'privatekey-file': '..data' }, 'reserved'],
    ['dot', { 'ca-file': '.' }, "must not be '.'"],
    ['NUL', { 'ca-file': 'a\0b' }, 'NUL'],
    ['too long', { 'ca-file': 'a'.repeat(256) }, 'at most 255 bytes'],
    [
      'explicit name collides with a default',
      { 'certificate-file': 'tls.key' },
      `file name 'tls.key' is also used by ${P}privatekey-file (default)`,
    ],
    [
      'collision ignoring case',
      { 'privatekey-file': 'TLS.CRT' },
      `is also used by ${P}certificate-file (default)`,
    ],
    [
      'two explicit names collide',
      { 'certificate-file': 'a.pem', 'privatekey-file': 'a.pem' },
      `is also used by ${P}certificate-file;`,
    ],
    ['ca-file collides', { 'ca-file': 'tls.crt' }, `is also used by ${P}certificate-file (default)`],
    [
      'pkcs12-filename collides',
      { 'pkcs12-enable': 'true', 'pkcs12-filename': 'ca.crt' },
      `is also used by ${P}ca-file (default)`,
    ],
    [
      'collision under the cert-manager prefix',
      { [`${CM}certificate-file`]: 'cert.pem', [`${CM}privatekey-file`]: 'cert.pem' },
      `is also used by ${CM}certificate-file`,
    ],
    [
      'pkcs12-filename without enable',
      { 'pkcs12-filename': 'a.p12' },
      `only allowed with ${P}pkcs12-enable: "true"`,
    ],
    [
      'pkcs12-password with enable false',
      { 'pkcs12-enable': 'false', 'pkcs12-password': 'x' },
      'only allowed with',
    ],
    ['pkcs12-enable not bool', { 'pkcs12-enable': 'on' }, 'must be "true" or "false"'],
    ['fs-group negative', { 'fs-group': '-1' }, 'integer group ID from 0 to 2147483647'],
    ['fs-group too big', { 'fs-group': '2147483648' }, 'integer group ID'],
    ['fs-group not a number', { 'fs-group': 'staff' }, "got 'staff'"],
  ]);

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
