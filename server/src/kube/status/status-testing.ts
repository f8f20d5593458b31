/** Test fixtures of the status feature (imported by tests only). */
import type { VolumeState } from '../../volumes/volume-state.js';
import { emptySubject } from '../../attributes/certificate-spec.js';
import { testSpec } from '../../pki/testing/openssl.js';

/** A published volume with one issued certificate; `over` replaces fields. */
export function volumeState(over: Partial<VolumeState> = {}): VolumeState {
  return {
    version: 1,
    volumeId: 'csi-0123',
    targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/tls/mount',
    nodeId: 'node-a',
    pod: {
      name: 'web-1',
      namespace: 'apps',
      uid: '5f0c0a2e-0000-4000-8000-000000000001',
      serviceAccount: 'web',
    },
    attributes: {},
    spec: testSpec({ subject: emptySubject(), dnsNames: [], usages: [] }, { encoding: 'PKCS1' }),
    phase: 'published',
    createdAt: '2026-01-01T00:00:00.000Z',
    certificate: {
      serialHex: '0A1B2C',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-01-01T01:00:00.000Z',
      issuedAt: '2026-01-01T00:00:00.500Z',
    },
    nextRenewalAt: '2026-01-01T00:48:00.250Z',
    failures: 0,
    history: [{ at: '2026-01-01T00:00:00.500Z', kind: 'issue', outcome: 'success', serialHex: '0A1B2C' }],
    ...over,
  };
}
