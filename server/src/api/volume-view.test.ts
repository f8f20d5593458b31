import { describe, expect, it } from 'vitest';
import type { VolumeState } from '../volumes/volume-state.js';
import { deriveState, publishFailureSummary, redactAttributes, toDetails, toSummary } from './volume-view.js';
import { emptySubject } from '../attributes/certificate-spec.js';
import { testSpec } from '../pki/testing/openssl.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const H = 3_600_000;

function state(
  p: Partial<Omit<VolumeState, 'spec'>> & { spec?: Partial<VolumeState['spec']> } = {},
): VolumeState {
  const { spec, ...rest } = p;
  return {
    version: 1,
    volumeId: 'csi-1',
    targetPath: '/t',
    nodeId: 'n1',
    pod: { name: 'web', namespace: 'default', uid: 'u', serviceAccount: 'sa' },
    attributes: {},
    spec: testSpec(
      { subject: emptySubject(), dnsNames: [], usages: [], durationSeconds: 10 * 3600, ...spec },
      { encoding: 'PKCS1' },
    ),
    phase: 'published',
    createdAt: iso(0),
    certificate: { serialHex: 'ab', notBefore: iso(0), notAfter: iso(10 * H), issuedAt: iso(0) },
    nextRenewalAt: iso(8 * H),
    failures: 0,
    history: [],
    ...rest,
  };
}

describe('deriveState', () => {
  it.each([
    { name: 'fresh certificate', s: state(), at: 1 * H, busy: false, want: 'healthy', reason: /^renews at / },
    {
      name: 'first issue running',
      s: state({ phase: 'publishing' }),
      at: 0,
      busy: true,
      want: 'renewing',
      reason: /first/,
    },
    { name: 'renewal running', s: state(), at: 1 * H, busy: true, want: 'renewing', reason: /in progress/ },
    { name: 'renewal due', s: state(), at: 8.5 * H, busy: false, want: 'renewing', reason: /due since/ },
    {
      name: 'auto-renew off, inside the last 20%',
      s: state({ spec: { disableAutoRenew: true } }),
      at: 8.5 * H,
      busy: false,
      want: 'expiring',
      reason: /auto-renew is off/,
    },
    {
      name: 'auto-renew off, renew-before window',
      s: state({ spec: { disableAutoRenew: true, renewBeforeSeconds: 3600 } }),
      at: 8.5 * H,
      busy: false,
      want: 'healthy',
      reason: /auto-renew is off/,
    },
    {
      name: 'renewals failing, certificate still valid',
      s: state({ failures: 2, lastError: 'issuer unreachable' }),
      at: 9 * H,
      busy: false,
      want: 'failed',
      reason: /^2 renewal attempts failed \(issuer unreachable\); current certificate valid until/,
    },
    { name: 'expired', s: state(), at: 10 * H, busy: false, want: 'failed', reason: /expired at/ },
    {
      name: 'no certificate',
      s: state({ certificate: undefined }),
      at: 0,
      busy: false,
      want: 'failed',
      reason: /without/,
    },
  ])('$name → $want', ({ s, at, busy, want, reason }) => {
    const got = deriveState(s, T0 + at, busy);
    expect(got.state).toBe(want);
    expect(got.reason).toMatch(reason);
  });
});

describe('the API serializer', () => {
  const secret = state({
    attributes: {
      'csi.k8s.cert-driver/pkcs12-password': 'hunter2',
      'csi.cert-manager.io/pkcs12-password': 'hunter3',
      'csi.k8s.cert-driver/dns-names': 'a.example',
    },
    spec: { pkcs12Password: 'hunter2', files: { certificate: 'c', privateKey: 'k', pkcs12: 'keystore.p12' } },
    history: [
      { at: iso(1), kind: 'issue', outcome: 'success', serialHex: 'a1' },
      { at: iso(2), kind: 'renew', outcome: 'failure', error: 'down' },
      { at: iso(3), kind: 'renew', outcome: 'success', serialHex: 'a2' },
    ],
  });

  it('copies no password, anywhere', () => {
    const d = toDetails(secret, T0, false, { error: 'x' });
    expect(JSON.stringify(d)).not.toMatch(/hunter/);
    expect(d.attributes['csi.k8s.cert-driver/dns-names']).toBe('a.example');
    expect(d.requested?.pkcs12).toBe(true);
    expect(d.files).toEqual({ certificate: 'c', privateKey: 'k', pkcs12: 'keystore.p12' });
  });

  it('counts successful renewals and remembers the last', () => {
    expect(toSummary(secret, T0, false)).toMatchObject({
      renewals: 1,
      lastRenewalAt: iso(3),
      issuer: 'built-in',
    });
  });

  it('names a cert-manager issuer', () => {
    const s = state({ spec: { issuer: { name: 'ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } } });
    expect(toSummary(s, T0, false).issuer).toBe('ClusterIssuer.cert-manager.io/ca');
  });

  it('redacts password and token attributes by name', () => {
    expect(redactAttributes({ 'x/pkcs12-password': 'p', 'x/token': 't', 'x/duration': '1h' })).toEqual({
      'x/pkcs12-password': '[REDACTED]',
      'x/token': '[REDACTED]',
      'x/duration': '1h',
    });
  });

  it('shows a failing publish as failed with nothing mounted', () => {
    const f = publishFailureSummary(
      { volumeId: 'v', targetPath: '/t', pod: state().pod, error: 'denied' },
      'n1',
      iso(0),
    );
    expect(f).toMatchObject({
      state: 'failed',
      phase: 'publish-failing',
      lastError: 'denied',
      autoRenew: false,
    });
    expect(f.certificate).toBeUndefined();
  });
});
