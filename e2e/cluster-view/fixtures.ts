/** The status objects of the cluster-view suites: three Linux nodes, one of them stopped reporting. */
// eslint-disable-next-line @nx/enforce-module-boundaries -- the status-object fakes shared with the unit tests
import { healthyVolume, type FakeVolume } from '../../server/src/cluster-view/testing.js';

const H = 3600;
/** A volume that is fine (server/src/cluster-view/testing.ts); `extra` overrides any field. */
export const healthy = healthyVolume;

/** A renewal error carrying what must never be served: a PEM key and a JWT-shaped token. */
export const LEAKY_ERROR =
  'renewal failed -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY----- token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl';

export const FLEET: FakeVolume[] = [
  healthy('shop', 'web-0', 'linux-a', { serial: '0a01' }),
  healthy('shop', 'web-1', 'linux-a', { notAfter: 3 * H, nextRenewal: 2 * H }),
  healthy('shop', 'web-2', 'linux-a', { notAfter: 3.2 * H, nextRenewal: 2.1 * H }),
  healthy('shop', 'web-3', 'linux-a', {
    nextRenewal: 120,
    last: { at: -60, kind: 'Renew', outcome: 'Failure', error: 'issuer unavailable: connection refused' },
  }),
  healthy('bank', 'api-0', 'linux-b', {
    issuer: { type: 'CertManager', name: 'bank-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
  }),
  healthy('bank', 'api-1', 'linux-b', {
    notBefore: -25 * H,
    notAfter: -H,
    nextRenewal: -5 * H,
    last: { at: -5 * H, kind: 'Renew', outcome: 'Failure', error: LEAKY_ERROR },
  }),
  // linux-dead: a renewal planned an hour ago and nothing written since.
  healthy('shop', 'cache-0', 'linux-dead', { nextRenewal: -H, last: { at: -20 * H, outcome: 'Success' } }),
  healthy('shop', 'cache-1', 'linux-dead'),
];
