import type { V1Secret } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { ConfigError } from '../../common/errors.js';
import type { CertificateAuthority } from '../../issuer/certificate-authority.js';
import { createDevCaPem } from '../../issuer/dev-ca.js';
import { KubeHttpError } from '../client/kube-json.js';
import { readCaSecret } from './ca-secret.js';
import { FakeKube } from './testing.js';

const logger = createLogger({ level: 'silent', role: 'test' });
const REF = { namespace: 'csi-cert-driver', name: 'csi-ca-secret' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

let ca1: { certPem: string; keyPem: string };
let ca2: { certPem: string; keyPem: string };

beforeAll(async () => {
  [ca1, ca2] = await Promise.all([createDevCaPem('ca secret test 1'), createDevCaPem('ca secret test 2')]);
});

function tlsSecret(rv: string, data: Record<string, string>, type = 'kubernetes.io/tls'): V1Secret {
  return {
    metadata: { ...REF, resourceVersion: rv },
    type,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  };
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(what()).toBe(true);
};

describe('readCaSecret', () => {
  const refusals: { name: string; setup: (k: FakeKube) => void; want: RegExp }[] = [
    {
      name: 'no such Secret (404)',
      setup: (k) => k.getErrors.push(new KubeHttpError(404, '{"message":"not found"}', {})),
      want: /^CA_SECRET_NAME \(Secret csi-cert-driver\/csi-ca-secret\): does not exist$/,
    },
    {
      name: 'forbidden (403)',
      setup: (k) => k.getErrors.push(new KubeHttpError(403, '{"message":"secrets is forbidden"}', {})),
      want: /cannot be read: the issuer may not get it \(RBAC\): HTTP 403: secrets is forbidden$/,
    },
    {
      name: 'the API server unreachable',
      setup: (k) => k.getErrors.push(new Error('connect ECONNREFUSED 127.0.0.1:6443')),
      want: /cannot be read: connect ECONNREFUSED 127\.0\.0\.1:6443$/,
    },
    {
      name: 'a Secret of another type',
      setup: (k) => (k.secret = tlsSecret('1', { 'tls.crt': ca1.certPem, 'tls.key': ca1.keyPem }, 'Opaque')),
      want: /has type 'Opaque', want kubernetes\.io\/tls$/,
    },
    {
      name: 'no tls.key',
      setup: (k) => (k.secret = tlsSecret('1', { 'tls.crt': ca1.certPem })),
      want: /^CA_SECRET_NAME \(Secret csi-cert-driver\/csi-ca-secret tls\.key\): is missing or empty$/,
    },
    {
      name: 'the key of another CA',
      setup: (k) => (k.secret = tlsSecret('1', { 'tls.crt': ca1.certPem, 'tls.key': ca2.keyPem })),
      want: /CA_SECRET_NAME \(Secret csi-cert-driver\/csi-ca-secret tls\.(crt|key)\)/,
    },
  ];

  it.each(refusals)('$name → a ConfigError naming CA_SECRET_NAME', async ({ setup, want }) => {
    const kube = new FakeKube();
    setup(kube);
    const err = await readCaSecret({ json: kube, ref: REF, logger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(want);
    expect(kube.gets.map((g) => `${g.method} ${g.path}`)).toEqual([
      'GET /api/v1/namespaces/csi-cert-driver/secrets/csi-ca-secret',
    ]);
  });

  it('loads the CA, then hands on each valid new version and keeps the CA over an invalid one', async () => {
    const kube = new FakeKube();
    kube.secret = tlsSecret('10', { 'tls.crt': ca1.certPem, 'tls.key': ca1.keyPem });
    const read = await readCaSecret({ json: kube, ref: REF, logger, retryDelayMs: 1 });
    expect(read.ca.certificate.subject).toContain('ca secret test 1');
    const rotated: CertificateAuthority[] = [];
    const watch = read.watch((ca) => rotated.push(ca));
    await until(() => kube.watches.length === 1);
    expect(kube.last.query.get('resourceVersion')).toBe('10');

    kube.last.emit('MODIFIED', tlsSecret('11', { 'tls.crt': ca2.certPem, 'tls.key': ca2.keyPem }));
    await until(() => rotated.length === 1);
    expect(rotated[0]!.certificate.subject).toContain('ca secret test 2');

    // Invalid (another CA's key), then deleted: nothing handed on; the next valid version is.
    kube.last.emit('MODIFIED', tlsSecret('12', { 'tls.crt': ca1.certPem, 'tls.key': ca2.keyPem }));
    kube.last.emit('DELETED', tlsSecret('13', {}));
    kube.last.emit(
      'ADDED',
      tlsSecret('14', { 'tls.crt': ca1.certPem, 'tls.key': ca1.keyPem, 'ca.crt': ca1.certPem }),
    );
    await until(() => rotated.length === 2);
    expect(rotated[1]!.certificate.subject).toContain('ca secret test 1');
    watch.stop();
    expect(kube.last.aborted).toBe(true);
  });
});
