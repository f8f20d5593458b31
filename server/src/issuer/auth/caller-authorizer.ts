/**
 * The issuer's caller authentication, as ports: who may ask for a certificate for which pod. The
 * Kubernetes adapters (TokenReview, pod lookup) live in `kube/`; the checks in this folder.
 */
import type { PodInfo } from '../../attributes/certificate-spec.js';
import type { ParsedCsr } from '../../pki/csr.js';

/** What the issuer knows about a SignCertificate call before it signs. */
export interface CallerRequest {
  /** The pod's service-account token for the issuer's audience; '' when the node sent none. */
  token: string;
  pod: PodInfo;
  nodeId: string;
  volumeId: string;
  csrPem: string;
  /** `csrPem` already parsed (`parseCsr`), so that a request is parsed once; parsed when absent. */
  csr?: ParsedCsr | undefined;
}

/** Who was allowed to sign, for the audit log. */
export interface AuthorizedCaller {
  /** The token's user, `system:serviceaccount:<ns>:<sa>`. */
  username: string;
}

/**
 * Decides whether a request may be signed. Throws UnauthenticatedError (no or invalid token),
 * PermissionDeniedError (valid token, but not for this pod, node or identity) or UnavailableError
 * (the API server cannot be asked now); each reaches the caller as that gRPC status.
 */
export interface CallerAuthorizer {
  authorize(req: CallerRequest): Promise<AuthorizedCaller>;
}

/** The claims of a service-account token that the API server accepted for the issuer's audience. */
export interface ReviewedToken {
  username: string;
  namespace: string;
  serviceAccount: string;
  /** Present when the token is bound to a pod (kubelet's CSI tokenRequests always are). */
  podName?: string | undefined;
  podUid?: string | undefined;
  /** The node of the bound pod when the token was issued (Kubernetes ≥ 1.30). */
  nodeName?: string | undefined;
  /**
   * True when the answer came from a cache (token-review-cache.ts), not from the API server just
   * now: the pod's existence was then checked up to the cache's TTL ago.
   */
  fromCache?: boolean | undefined;
}

/** Verifies a token (TokenReview). Throws UnauthenticatedError when it is not valid for the audience. */
export type TokenReviewer = (token: string) => Promise<ReviewedToken>;

/** What the issuer needs to know about a pod. */
export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  serviceAccount: string;
  /** `spec.nodeName`; '' while unscheduled. */
  nodeName: string;
  /** `status.phase`. */
  phase: string;
  hostname?: string | undefined;
  subdomain?: string | undefined;
  /** `status.podIPs`. */
  podIPs: string[];
}

/** Reads a pod; undefined when it does not exist. */
export type PodReader = (namespace: string, name: string) => Promise<PodFacts | undefined>;
