/**
 * ISSUER_AUTH=kubernetes: a request is signed only when the pod's own service-account token (from
 * CSI tokenRequests, for the issuer's audience) passes TokenReview, is bound to exactly the pod the
 * request names, that pod exists and runs on the calling node, and the CSR asks only for names the
 * pod may hold. Every refusal is one audit log line (never the token) and a typed error.
 */
import type { Logger } from '../../common/logger.js';
import { PermissionDeniedError, UnauthenticatedError } from '../../common/errors.js';
import type {
  AuthorizedCaller,
  CallerAuthorizer,
  CallerRequest,
  PodFacts,
  PodReader,
  ReviewedToken,
  TokenReviewer,
} from './caller-authorizer.js';
import {
  checkRequestedIdentity,
  requestedIdentity,
  type IdentitySettings,
  type RequestedIdentity,
} from './pod-identity.js';

export interface KubernetesAuthorizerOptions {
  reviewToken: TokenReviewer;
  readPod: PodReader;
  identity: IdentitySettings;
  /** The audience the node must request tokens for (CSIDriver spec.tokenRequests). */
  audience: string;
  logger: Logger;
  /**
   * `always` (the default): every request reads the pod. `when-needed`: the pod is read only when
   * the token cannot vouch for what is checked (ADR 20). A pod-bound token that passes TokenReview
   * already proves what the read would: the API server refuses it once its pod is deleted or
   * replaced (uid), its service account is the pod's, and its node-name claim (Kubernetes ≥ 1.30) is
   * the pod's node, which never changes. So the pod is read when the review came from a cache (the
   * pod may have gone since), when the token has no node-name claim, or when the CSR asks for a name
   * the token alone cannot allow (a pod IP, the hostname/subdomain form). Either way one API call
   * per request. What only the read sees: a pod that has terminated (Succeeded/Failed) but is not
   * deleted.
   */
  podLookup?: 'always' | 'when-needed' | undefined;
  /** Called once per pod read (metrics, benchmarks). */
  onPodRead?: (() => void) | undefined;
}

const TERMINATED = new Set(['Succeeded', 'Failed']);

export class KubernetesAuthorizer implements CallerAuthorizer {
  constructor(private readonly o: KubernetesAuthorizerOptions) {}

  async authorize(req: CallerRequest): Promise<AuthorizedCaller> {
    const audit = {
      audit: 'issuance',
      pod: `${req.pod.namespace}/${req.pod.name}`,
      podUid: req.pod.uid,
      node: req.nodeId,
      volumeId: req.volumeId,
    };
    let caller: string | undefined;
    try {
      if (!req.token) {
        throw new UnauthenticatedError(missingTokenMessage(this.o.audience));
      }
      const claims = await this.o.reviewToken(req.token);
      caller = claims.username;
      checkClaims(claims, req);
      const requested = requestedIdentity(req.csr ?? req.csrPem);
      if (
        this.o.podLookup === 'when-needed' &&
        !claims.fromCache &&
        tokenVouches(claims, requested, req, this.o.identity)
      ) {
        return { username: claims.username };
      }
      this.o.onPodRead?.();
      const pod = await this.o.readPod(req.pod.namespace, req.pod.name);
      checkPod(pod, claims, req);
      checkRequestedIdentity(requested, pod, this.o.identity);
      return { username: claims.username };
    } catch (e) {
      if (e instanceof PermissionDeniedError || e instanceof UnauthenticatedError) {
        this.o.logger.warn({ ...audit, decision: 'denied', caller, reason: e.message }, 'issuance denied');
      }
      throw e;
    }
  }
}

/**
 * True when the token's claims (already checked against the request by checkClaims) allow every
 * requested name without the pod: it carries the node-name claim, and the names are within what
 * the pod's name, namespace and service account allow.
 */
function tokenVouches(
  t: ReviewedToken,
  requested: RequestedIdentity,
  req: CallerRequest,
  identity: IdentitySettings,
): boolean {
  if (!t.nodeName || !t.podName || !t.podUid || t.nodeName !== req.nodeId) return false;
  const fromToken: PodFacts = {
    name: t.podName,
    namespace: t.namespace,
    uid: t.podUid,
    serviceAccount: t.serviceAccount,
    nodeName: t.nodeName,
    phase: '',
    podIPs: [],
  };
  try {
    checkRequestedIdentity(requested, fromToken, identity);
    return true;
  } catch {
    return false; // the pod's hostname or IPs may still allow it: read the pod
  }
}

/** The token must be a pod-bound token of the request's pod, issued while it was on the calling node. */
function checkClaims(t: ReviewedToken, req: CallerRequest): void {
  const pod = `${req.pod.namespace}/${req.pod.name}`;
  if (t.namespace !== req.pod.namespace) {
    throw new PermissionDeniedError(
      `token: belongs to namespace ${t.namespace}, the request is for pod ${pod}`,
    );
  }
  if (!t.podName || !t.podUid) {
    throw new PermissionDeniedError(
      'token: is not bound to a pod; the node must forward the CSI tokenRequests token',
    );
  }
  if (t.podName !== req.pod.name || t.podUid !== req.pod.uid) {
    throw new PermissionDeniedError(
      `token: is bound to pod ${t.namespace}/${t.podName}, the request is for pod ${pod}`,
    );
  }
  if (req.pod.serviceAccount && req.pod.serviceAccount !== t.serviceAccount) {
    throw new PermissionDeniedError(
      `pod.service_account: "${req.pod.serviceAccount}" is not the token's service account "${t.serviceAccount}"`,
    );
  }
  if (t.nodeName && t.nodeName !== req.nodeId) {
    throw new PermissionDeniedError(
      `node_id: the token was issued for a pod on node ${t.nodeName}, not ${req.nodeId}`,
    );
  }
}

function checkPod(pod: PodFacts | undefined, t: ReviewedToken, req: CallerRequest): asserts pod is PodFacts {
  const name = `${req.pod.namespace}/${req.pod.name}`;
  if (!pod) throw new PermissionDeniedError(`pod: ${name} does not exist`);
  if (pod.uid !== t.podUid) throw new PermissionDeniedError(`pod: ${name} was replaced (uid ${pod.uid})`);
  if (pod.serviceAccount !== t.serviceAccount) {
    throw new PermissionDeniedError(
      `pod: ${name} runs as service account ${pod.serviceAccount}, not ${t.serviceAccount}`,
    );
  }
  if (pod.nodeName !== req.nodeId) {
    throw new PermissionDeniedError(
      `node_id: pod ${name} runs on node "${pod.nodeName}", not on the calling node ${req.nodeId}`,
    );
  }
  if (TERMINATED.has(pod.phase))
    throw new PermissionDeniedError(`pod: ${name} has terminated (${pod.phase})`);
}

/**
 * Why a request came without a token, and every setting that decides it: the CSIDriver must ask
 * kubelet for the audience, kubelet puts the map in the request's `secrets` or its volume context
 * (`serviceAccountTokenInSecrets`, the node reads both), and the node forwards only its
 * ISSUER_TOKEN_AUDIENCE.
 */
export function missingTokenMessage(audience: string): string {
  return (
    `token: a service-account token for audience "${audience}" is required and the node sent none: ` +
    `the CSIDriver must list {audience: "${audience}"} in spec.tokenRequests (with requiresRepublish: true); ` +
    `kubelet then passes csi.storage.k8s.io/serviceAccount.tokens in the NodePublishVolume secrets ` +
    `(spec.serviceAccountTokenInSecrets: true) or volume context (false or unset), and the node reads either; ` +
    `the node's ISSUER_TOKEN_AUDIENCE must be "${audience}" too`
  );
}
