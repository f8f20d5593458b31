/** Names every Kubernetes suite shares: the driver's namespace, the pods' namespace, kubelet's keys. */

/** The namespace of the driver's own objects (CA Secret, service accounts, Lease). */
export const NS = 'csi-cert-driver';
/** The namespace of the test pods. */
export const APPS = 'apps';
/** kubelet's volume-context key holding the pod's service-account tokens by audience. */
export const TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';
/** The audience of the pod token the node forwards to the built-in issuer (the CSIDriver's tokenRequests). */
export const AUDIENCE = 'csi.k8s.cert-driver';
