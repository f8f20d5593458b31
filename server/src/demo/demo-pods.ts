import type { DemoPod } from './simulated-kubelet.js';

const P = 'csi.k8s.cert-driver/';

/** The demo's pods: defaults, short lifetimes (renewals visible within minutes), RSA, cert-manager spelling, and one the issuer refuses. */
export const DEMO_PODS: DemoPod[] = [
  {
    namespace: 'default',
    name: 'web-0',
    serviceAccount: 'web',
    attributes: {},
    note: 'all defaults: ECDSA P-256, 7 days',
  },
  {
    namespace: 'default',
    name: 'api-0',
    serviceAccount: 'api',
    attributes: {
      [`${P}dns-names`]: '${POD_NAME}.api.${POD_NAMESPACE}.svc,api.example.test',
      [`${P}duration`]: '3m',
    },
    note: '3-minute certificate: renews about every 2.5 minutes',
  },
  {
    namespace: 'monitoring',
    name: 'scraper-0',
    serviceAccount: 'scraper',
    attributes: {
      [`${P}duration`]: '1m',
      [`${P}renew-before`]: '30s',
      [`${P}key-algorithm`]: 'ECDSA',
      [`${P}key-size`]: '384',
    },
    note: '1-minute P-384 certificate renewed 30s before expiry',
  },
  {
    namespace: 'payments',
    name: 'ledger-0',
    serviceAccount: 'ledger',
    attributes: {
      [`${P}key-algorithm`]: 'RSA',
      [`${P}key-size`]: '2048',
      [`${P}key-encoding`]: 'PKCS8',
      [`${P}ip-sans`]: '10.0.0.7',
      [`${P}uri-sans`]: 'spiffe://cluster.local/ns/${POD_NAMESPACE}/sa/${SERVICE_ACCOUNT_NAME}',
      [`${P}organizations`]: 'Example Payments',
      [`${P}duration`]: '1h',
    },
    note: 'RSA-2048 PKCS#8, IP and SPIFFE URI SANs',
  },
  {
    namespace: 'legacy',
    name: 'migrated-0',
    serviceAccount: 'default',
    attributes: {
      'csi.cert-manager.io/common-name': 'migrated.legacy.svc',
      'csi.cert-manager.io/dns-names': 'migrated.legacy.svc',
      'csi.cert-manager.io/certificate-file': 'cert.pem',
      'csi.cert-manager.io/privatekey-file': 'key.pem',
    },
    note: 'cert-manager csi-driver attribute spelling, custom file names',
  },
  {
    namespace: 'default',
    name: 'wants-ca-0',
    serviceAccount: 'default',
    attributes: { [`${P}is-ca`]: 'true' },
    note: 'asks for a CA certificate: refused by the issuer policy (shown as failing)',
  },
];
