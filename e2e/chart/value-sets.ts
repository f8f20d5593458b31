/**
 * The value sets every chart test renders: what users install. Each is a values file as a user
 * would write it; `everything` turns on every optional object at once.
 */
export interface ValueSet {
  name: string;
  values: Record<string, unknown>;
}

export const DEFAULTS: ValueSet = { name: 'defaults', values: {} };

export const WINDOWS: ValueSet = { name: 'windows', values: { windows: { enabled: true } } };

/** Windows nodes with every Kubernetes feature of the node: cert-manager mode, status objects, pod Events. */
export const WINDOWS_KUBE: ValueSet = {
  name: 'windows-kube',
  values: {
    windows: {
      enabled: true,
      api: { enabled: true, host: '127.0.0.1', port: 29640, allowedHosts: ['win-a.example.internal'] },
    },
    certManager: { enabled: true },
    status: { objects: true, podEvents: true },
  },
};

/** The Linux node registered and probed by node-driver-registrar and livenessprobe (the former default). */
export const SIDECARS: ValueSet = { name: 'sidecars', values: { node: { registration: 'sidecars' } } };

/** cert-manager mode: requests made with the pod's token (cert-manager's own approver decides). */
export const CERT_MANAGER: ValueSet = {
  name: 'cert-manager',
  values: {
    certManager: { enabled: true, requestIdentity: 'pod', timeout: '30s', cleanupInterval: '2m' },
  },
};

/** SPIFFE mode with the built-in issuer: every volume gets its SVID; no API access on the node. */
export const SPIFFE: ValueSet = {
  name: 'spiffe',
  values: {
    spiffe: { enabled: true, trustDomain: 'example.org', certificateDuration: '2h', keySize: 384 },
  },
};

/** CertVolumeStatus objects and pod Events, with the CRD installed by the chart, and the cluster view of them. */
export const STATUS: ValueSet = {
  name: 'status',
  values: {
    status: { objects: true, podEvents: true, qps: 2.5, burst: 20 },
    crds: { install: true },
    clusterView: { enabled: true, staleAfter: '10m', allowedHosts: ['certs.example.com'] },
  },
};

/**
 * cert-manager mode with requests made as the node's own service account (no pod token): the node
 * gets cluster-wide create/get on CertificateRequests.
 */
export const CERT_MANAGER_DRIVER: ValueSet = {
  name: 'cert-manager-driver',
  values: { certManager: { enabled: true, requestIdentity: 'driver' } },
};

/**
 * SPIFFE through cert-manager with the approver: requests made with the pod's identity (the
 * approver checks that the requester is the pod's service account), a
 * namespaced Issuer allowed in two namespaces.
 */
export const APPROVER: ValueSet = {
  name: 'approver',
  values: {
    spiffe: { enabled: true, trustDomain: 'example.org', certificateDuration: '1h' },
    certManager: { enabled: true, requestIdentity: 'pod' },
    approver: {
      enabled: true,
      issuerRef: {
        name: 'spiffe-ca',
        kind: 'Issuer',
        group: 'cert-manager.io',
        namespaces: ['apps', 'shop'],
      },
      leaderElection: { leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s' },
    },
  },
};

/** Every optional object on: Windows, approver, monitors, NetworkPolicies, an existing CA Secret. */
export const EVERYTHING: ValueSet = {
  name: 'everything',
  values: {
    windows: {
      enabled: true,
      api: { enabled: true, host: '127.0.0.1', port: 29640, allowedHosts: ['win-a.example.internal'] },
    },
    csiDriver: { preventPodSchedulingIfMissing: true },
    certManager: { enabled: true },
    spiffe: { enabled: true, trustDomain: 'example.org' },
    status: { objects: true, podEvents: true },
    approver: { enabled: true, issuerRef: { name: 'csi-ca' }, allowedKeys: 'ECDSA-256,ECDSA-384' },
    metrics: { podMonitor: { enabled: true }, serviceMonitor: { enabled: true } },
    networkPolicy: {
      enabled: true,
      issuer: { ingressFrom: [{ ipBlock: { cidr: '10.240.0.0/16' } }] },
    },
    ca: { existingSecret: 'my-ca' },
    issuer: { caSource: 'files', allowedDnsNames: ['*.example.internal'], allowSystemSubjects: true },
    node: {
      kubeletRootDir: '/var/snap/microk8s/common/var/lib/kubelet',
      api: { enabled: true, host: '127.0.0.1', port: 8080, allowedHosts: ['node-a.example.internal'] },
      trustBundle: { configMapName: 'corp-roots', key: 'roots.pem' },
    },
  },
};

/** mTLS between node drivers and issuer: the chart also makes the node drivers' client certificate. */
export const ISSUER_MTLS: ValueSet = {
  name: 'issuer-mtls',
  values: { issuer: { tls: { clientAuth: true } } },
};

export const VALUE_SETS: ValueSet[] = [
  DEFAULTS,
  ISSUER_MTLS,
  WINDOWS,
  SIDECARS,
  CERT_MANAGER,
  CERT_MANAGER_DRIVER,
  SPIFFE,
  STATUS,
  APPROVER,
  EVERYTHING,
];
