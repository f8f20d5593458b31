import { describe, expect, it } from 'vitest';
import type { VolumeState } from '../../volumes/volume-state.js';
import { volumeState } from './status-testing.js';
import { labelValue, nodeSelector, sameStatus, statusObject, statusObjectName } from './status-object.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const NOW = new Date('2026-01-01T00:10:00Z');

describe('statusObjectName', () => {
  it.each([
    { name: 'a short pod name', pod: 'web-1' },
    { name: 'a pod name with dots', pod: 'web.v2.app' },
    { name: 'a 253-character pod name', pod: 'a'.repeat(253) },
    { name: 'a long name cut at a dot', pod: `${'a'.repeat(241)}.b${'c'.repeat(11)}` },
    { name: 'a long name cut at a dash', pod: `${'a'.repeat(241)}-${'c'.repeat(11)}` },
  ])('is a DNS-1123 subdomain of at most 253 characters for $name', ({ pod }) => {
    const n = statusObjectName(pod, 'csi-abc');
    expect(n.length).toBeLessThanOrEqual(253);
    expect(n).toMatch(DNS_SUBDOMAIN);
    expect(n).toMatch(/-[0-9a-f]{10}$/);
  });

  it('is stable per volume and differs between volumes of one pod', () => {
    expect(statusObjectName('web', 'csi-1')).toBe(statusObjectName('web', 'csi-1'));
    expect(statusObjectName('web', 'csi-1')).not.toBe(statusObjectName('web', 'csi-2'));
  });
});

describe('labelValue', () => {
  it.each([
    { v: 'node-a', same: true },
    { v: 'ip-10-0-0-1.eu-west-1.compute.internal', same: true },
    { v: 'n'.repeat(64), same: false },
    { v: 'ends-with-dash-', same: false },
  ])('$v → valid label value (kept: $same)', ({ v, same }) => {
    const out = labelValue(v);
    expect(out).toMatch(LABEL);
    expect(out.length).toBeLessThanOrEqual(63);
    expect(out === v).toBe(same);
  });

  it('selects the node by the same value', () => {
    expect(nodeSelector('n'.repeat(100))).toBe(`csi-cert-driver.io/node=${labelValue('n'.repeat(100))}`);
  });
});

describe('statusObject', () => {
  it('describes the volume, owned by its pod and labelled with node and pod', () => {
    const obj = statusObject({ state: volumeState(), now: NOW });
    expect(obj).toEqual({
      apiVersion: 'csi-cert-driver.io/v1alpha1',
      kind: 'CertVolumeStatus',
      metadata: {
        name: statusObjectName('web-1', 'csi-0123'),
        namespace: 'apps',
        labels: {
          'app.kubernetes.io/managed-by': 'csi-cert-driver',
          'csi-cert-driver.io/node': 'node-a',
          'csi-cert-driver.io/pod': 'web-1',
          'csi-cert-driver.io/pod-uid': '5f0c0a2e-0000-4000-8000-000000000001',
        },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: '5f0c0a2e-0000-4000-8000-000000000001' },
        ],
      },
      status: {
        node: 'node-a',
        pod: { name: 'web-1', uid: '5f0c0a2e-0000-4000-8000-000000000001', serviceAccount: 'web' },
        volumeId: 'csi-0123',
        targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/tls/mount',
        issuer: { type: 'BuiltIn' },
        serialNumber: '0a1b2c',
        notBefore: '2026-01-01T00:00:00Z',
        notAfter: '2026-01-01T01:00:00Z',
        nextRenewal: '2026-01-01T00:48:00Z',
        lastRenewal: { time: '2026-01-01T00:00:00Z', kind: 'Issue', outcome: 'Success' },
        consecutiveFailures: 0,
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Issued', lastTransitionTime: NOW.toISOString() },
        ],
      },
    });
  });

  it.each([
    {
      name: 'renewed',
      over: { history: [{ at: NOW.toISOString(), kind: 'renew', outcome: 'success' }] },
      want: { status: 'True', reason: 'Renewed' },
    },
    {
      name: 'renewal failing, certificate valid',
      over: {
        failures: 2,
        lastError: 'issuer denied the request: nope',
        history: [
          {
            at: NOW.toISOString(),
            kind: 'renew',
            outcome: 'failure',
            error: 'issuer denied the request: nope',
          },
        ],
      },
      want: { status: 'True', reason: 'RenewalFailing', message: 'issuer denied the request: nope' },
    },
    {
      name: 'expired',
      over: {
        certificate: {
          serialHex: '01',
          notBefore: '2025-01-01T00:00:00Z',
          notAfter: '2025-01-02T00:00:00Z',
          issuedAt: '',
        },
      },
      want: { status: 'False', reason: 'Expired' },
    },
  ] as { name: string; over: Partial<VolumeState>; want: object }[])(
    'Ready condition: $name',
    ({ over, want }) => {
      expect(statusObject({ state: volumeState(over), now: NOW }).status.conditions[0]).toMatchObject(want);
    },
  );

  it('scrubs PEM blocks and tokens out of the error in lastRenewal and the condition message', () => {
    const error =
      'issuer said: -----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST----- ' +
      'for eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl';
    const { status } = statusObject({
      state: volumeState({
        failures: 1,
        lastError: error,
        history: [{ at: NOW.toISOString(), kind: 'renew', outcome: 'failure', error }],
      }),
      now: NOW,
    });
    const want = 'issuer said: [PEM removed] for [token removed]';
    expect(status.lastRenewal?.error).toBe(want);
    expect(status.conditions[0]!.message).toBe(want);
  });

  it('keeps lastTransitionTime while the condition status stays, moves it when it changes', () => {
    const first = statusObject({ state: volumeState(), now: NOW }).status.conditions;
    const later = new Date(NOW.getTime() + 60_000);
    const renewed = volumeState({
      history: [{ at: later.toISOString(), kind: 'renew', outcome: 'success' }],
    });
    expect(
      statusObject({ state: renewed, previous: first, now: later }).status.conditions[0]!.lastTransitionTime,
    ).toBe(NOW.toISOString());
    const flipped = [{ ...first[0]!, status: 'False' as const }];
    expect(
      statusObject({ state: renewed, previous: flipped, now: later }).status.conditions[0]!
        .lastTransitionTime,
    ).toBe(later.toISOString());
  });

  it('names a cert-manager issuer', () => {
    const state = volumeState();
    state.spec = { ...state.spec, issuer: { name: 'ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } };
    expect(statusObject({ state }).status.issuer).toEqual({
      type: 'CertManager',
      name: 'ca',
      kind: 'ClusterIssuer',
      group: 'cert-manager.io',
    });
  });

  it('sameStatus ignores transition times and key order, not values', () => {
    const a = statusObject({ state: volumeState(), now: NOW }).status;
    const b = statusObject({ state: volumeState(), now: new Date(NOW.getTime() + 5000) }).status;
    const reordered = JSON.parse(JSON.stringify(b, Object.keys(b).reverse())) as typeof b;
    expect(sameStatus(a, b)).toBe(true);
    expect(sameStatus(a, { ...reordered, ...b })).toBe(true);
    expect(sameStatus(a, { ...b, serialNumber: 'ff' })).toBe(false);
    expect(sameStatus(undefined, b)).toBe(false);
  });
});
