import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MAX_STATUS_MESSAGE } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import type { CertificateAuthority } from './certificate-authority.js';
import { IssuanceLog } from './issuance-log.js';
import { IssuerController, SIGN_REQUEST_LIMITS } from './issuer.controller.js';
import { DEFAULT_SIGNING_POLICY } from './signing-policy.js';

// The size checks come before the CA is ever used, so none is needed here.
const controller = new IssuerController({
  ca: {} as CertificateAuthority,
  policy: DEFAULT_SIGNING_POLICY,
  log: new IssuanceLog(),
  logger: createLogger({ level: 'fatal', role: 'issuer', destination: new PassThrough().resume() }),
});

const good = {
  csr_pem: '-----BEGIN CERTIFICATE REQUEST-----',
  pod: { name: 'web-0', namespace: 'apps', uid: 'u-1', service_account: 'web' },
  node_id: 'node-a',
  volume_id: 'csi-1',
  duration_seconds: '3600',
  usages: ['server auth'],
  token: 'eyJ.a.b',
};
const HUGE = 'x'.repeat(300_000);

describe('IssuerController request size limits', () => {
  it.each([
    { field: 'csr_pem', req: { ...good, csr_pem: HUGE } },
    { field: 'pod.name', req: { ...good, pod: { ...good.pod, name: HUGE } } },
    { field: 'pod.namespace', req: { ...good, pod: { ...good.pod, namespace: HUGE } } },
    {
      field: 'pod.uid',
      req: { ...good, pod: { ...good.pod, uid: 'u'.repeat(SIGN_REQUEST_LIMITS.uid + 1) } },
    },
    { field: 'pod.service_account', req: { ...good, pod: { ...good.pod, service_account: HUGE } } },
    { field: 'node_id', req: { ...good, node_id: HUGE } },
    { field: 'volume_id', req: { ...good, volume_id: HUGE } },
    { field: 'token', req: { ...good, token: HUGE } },
    { field: 'usages', req: { ...good, usages: Array.from({ length: 1000 }, () => 'server auth') } },
    { field: 'usages', req: { ...good, usages: [HUGE] } },
  ])(
    'refuses an oversized $field with INVALID_ARGUMENT naming it, never quoting it',
    async ({ field, req }) => {
      const err = await controller.signCertificate(req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).field).toBe(field);
      expect((err as Error).message.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE);
      expect((err as Error).message).not.toContain('xxxx');
    },
  );
});
