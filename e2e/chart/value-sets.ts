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

/** cert-manager mode: requests made with the pod's token, the approver for one ClusterIssuer. */
export const CERT_MANAGER: ValueSet = {
  name: 'cert-manager',
  values: {
    certManager: { enabled: true, requestIdentity: 'pod' },
    approver: {
      enabled: true,
      issuerRef: { name: 'csi-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    },
  },
};

/** SPIFFE mode through cert-manager, requests made with the driver's identity, a namespaced Issuer. */
export const SPIFFE: ValueSet = {
  name: 'spiffe',
  values: {
    spiffe: { enabled: true, trustDomain: 'example.org', certificateDuration: '1h' },
    certManager: { enabled: true, requestIdentity: 'driver' },
    approver: { enabled: true, issuerRef: { name: 'spiffe-ca', kind: 'Issuer', group: 'cert-manager.io' } },
  },
};

/** Every optional object on: Windows, approver, monitors, NetworkPolicies, an existing CA Secret. */
export const EVERYTHING: ValueSet = {
  name: 'everything',
  values: {
    windows: { enabled: true },
    csiDriver: { preventPodSchedulingIfMissing: true },
    certManager: { enabled: true },
    spiffe: { enabled: true, trustDomain: 'example.org' },
    approver: { enabled: true, issuerRef: { name: 'csi-ca' } },
    metrics: { podMonitor: { enabled: true }, serviceMonitor: { enabled: true } },
    networkPolicy: {
      enabled: true,
      issuer: { ingressFrom: [{ ipBlock: { cidr: '10.240.0.0/16' } }] },
    },
    ca: { existingSecret: 'my-ca' },
    issuer: { caSource: 'files', allowedDnsNames: ['*.example.internal'] },
    node: {
      kubeletRootDir: '/var/snap/microk8s/common/var/lib/kubelet',
      trustBundle: { configMapName: 'corp-roots', key: 'roots.pem' },
    },
  },
};

export const VALUE_SETS: ValueSet[] = [DEFAULTS, WINDOWS, CERT_MANAGER, SPIFFE, EVERYTHING];
