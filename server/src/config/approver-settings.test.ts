import { describe, expect, it } from 'vitest';
import { loadApproverConfig } from './approver-settings.js';
import { configErrorOf } from './testing.js';

const BASE = { ISSUER_NAME: 'spiffe-ca' };

describe('loadApproverConfig', () => {
  it('applies the defaults the chart relies on', () => {
    const cfg = loadApproverConfig([], { ...BASE, POD_NAME: 'approver-0' });
    expect(cfg).toMatchObject({
      issuerRef: { name: 'spiffe-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      trustDomain: 'cluster.local',
      durationSeconds: 3600,
      keys: { ecdsaSizes: [256, 384, 521], ed25519: false },
      leaderElection: {
        namespace: 'csi-cert-driver',
        leaseName: 'csi-cert-driver-approver',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
      healthListenAddr: '0.0.0.0:9402',
    });
    expect(cfg.leaderElection.identity).toMatch(/^approver-0_[0-9a-f]{8}$/);
  });

  it('reads flags like the other roles', () => {
    const cfg = loadApproverConfig(
      ['--issuer-name=x', '--allowed-keys=RSA-3072', '--leader-election-retry-period=500ms'],
      {},
    );
    expect(cfg.issuerRef.name).toBe('x');
    expect(cfg.keys).toEqual({ ecdsaSizes: [], rsaMinBits: 3072, ed25519: false });
    expect(cfg.leaderElection.retryPeriodMs).toBe(500);
  });

  it.each([
    { env: {}, setting: 'ISSUER_NAME' },
    { env: { ...BASE, ISSUER_NAME: 'Bad_Name' }, setting: 'ISSUER_NAME' },
    { env: { ...BASE, ISSUER_KIND: 'cluster issuer' }, setting: 'ISSUER_KIND' },
    { env: { ...BASE, ISSUER_GROUP: 'Cert-Manager' }, setting: 'ISSUER_GROUP' },
    { env: { ...BASE, TRUST_DOMAIN: 'Example.org' }, setting: 'TRUST_DOMAIN' },
    { env: { ...BASE, CERTIFICATE_DURATION: '30s' }, setting: 'CERTIFICATE_DURATION' },
    { env: { ...BASE, CERTIFICATE_DURATION: '1d' }, setting: 'CERTIFICATE_DURATION' },
    { env: { ...BASE, ALLOWED_KEYS: 'ECDSA-255' }, setting: 'ALLOWED_KEYS' },
    { env: { ...BASE, LEADER_ELECTION_NAMESPACE: 'a.b' }, setting: 'LEADER_ELECTION_NAMESPACE' },
    { env: { ...BASE, LEADER_ELECTION_LEASE_NAME: 'UPPER' }, setting: 'LEADER_ELECTION_LEASE_NAME' },
    { env: { ...BASE, LEADER_ELECTION_LEASE_DURATION: '1500ms' }, setting: 'LEADER_ELECTION_LEASE_DURATION' },
    { env: { ...BASE, LEADER_ELECTION_RENEW_DEADLINE: '15s' }, setting: 'LEADER_ELECTION_RENEW_DEADLINE' },
    { env: { ...BASE, LEADER_ELECTION_RETRY_PERIOD: '10s' }, setting: 'LEADER_ELECTION_RETRY_PERIOD' },
    { env: { ...BASE, HEALTH_LISTEN_ADDR: 'nowhere' }, setting: 'HEALTH_LISTEN_ADDR' },
  ])('refuses a bad $setting', ({ env, setting }) => {
    const err = configErrorOf(() => loadApproverConfig([], env));
    expect(err.setting).toBe(setting);
  });
});
